"""The HTTP API and explorer page (optional extra ``interestgraph[service]``).

``create_app`` builds the FastAPI app; ``interestgraph serve`` runs it with uvicorn.
"""

from interestgraph.service.auth import api_token, token_file

__all__ = ["api_token", "create_app", "token_file"]


def __getattr__(name: str):  # FastAPI is imported only when the app is wanted
    if name == "create_app":
        from interestgraph.service.app import create_app

        return create_app
    raise AttributeError(name)
