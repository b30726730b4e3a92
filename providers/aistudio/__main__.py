from providers.aistudio.main import main

raise SystemExit(main())
