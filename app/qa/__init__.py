"""QA replay: score finished transcripts against the service script.

    sources ──► Transcript ──► replay (engine, assist mode) ──► Replay (per-turn tags)
                                                   rules (rulebook) ──► findings ──► scoring ──► Assessment
    Assessment* ──► reports (JSON Lines, CSV, HTML) · diff (two content/rule versions) · REST (api)

The core (`replay`, `rules`, `scoring`, `assessor`, `diff`, `reports`) is pure: no files, no clock.
Files, processes and progress bars live at the edges (`sources`, `batch`, `commands`, `api`).
"""
