from providers.webai.main import main

raise SystemExit(main())
