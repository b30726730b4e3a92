"""Which addresses other than loopback a process tree talks to: the check that a peer under
test reaches nothing but the bench upstream (telemetry, update checks, price lists)."""

from __future__ import annotations

import ipaddress

import psutil


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def outside_addresses(pid: int) -> set[str]:
    """``ip:port`` of every TCP/UDP peer of ``pid``'s tree that is not a loopback address."""
    found: set[str] = set()
    for process in _tree(pid):
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for connection in connections:
            if not connection.raddr:
                continue
            if not ipaddress.ip_address(connection.raddr.ip).is_loopback:
                found.add(f"{connection.raddr.ip}:{connection.raddr.port}")
    return found
