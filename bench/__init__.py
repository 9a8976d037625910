"""ATTN's benchmark: throughput, latency, memory and sweep cost against real Redis and PostgreSQL.

Why a package of its own: the numbers only mean something against the real servers and the real
code paths (services, handlers, sweeps), each next to a bare baseline measured in the same run
on the same machine, so the ratios survive a change of hardware. Run it as `python -m bench`.
"""
