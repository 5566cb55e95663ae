"""HTTP routes, one module per resource, and the one way they send a JSON body."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel


def json_response(request: Request, model: BaseModel) -> Response:
    """Serialise a response model once, and leave its result counts for the access log.

    A returned model would be validated against the route's response_model a second time, and the
    log would have to parse the body again to count its results.
    """
    request.state.results = {name: len(value) for name, value in model if isinstance(value, list)}
    return Response(model.model_dump_json(), media_type="application/json")
