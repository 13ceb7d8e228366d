"""Report writers: JSON Lines (`jsonl`), CSV (`table`), one self-contained HTML page (`page`, `charts`)."""
