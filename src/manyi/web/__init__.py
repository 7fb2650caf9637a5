"""The web app (FastAPI, server-rendered Jinja2 pages, assets served locally): the public
survey pages behind the invitation links. It calls ``manyi.services`` only."""
