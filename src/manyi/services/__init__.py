"""Use cases shared by the CLI and (later) the web app."""
