"""Formal letters (seed 000) and e-mail intake (seed 002): templates are data in `scripts_zh/letters/`."""
