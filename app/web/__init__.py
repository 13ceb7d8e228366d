"""Static demo pages: the chat widget (`/`) and the agent sidebar (`/agent`)."""
