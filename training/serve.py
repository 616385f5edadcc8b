"""``wirecoder serve``: the model behind an HTTP API, with the coding desk page at ``/``.

``create_app(coder, ...)`` builds the FastAPI app around an already loaded :class:`EventCoder`, so
the model is loaded once per process and tests build the app in memory. Requests from concurrent
clients are coded together by :class:`training.serve_batching.MicroBatcher`.

Routes (all JSON):

* ``POST /v1/code`` ``{"texts": [...], "ids"?: [...], "document_date"?: "YYYY-MM-DD"}`` ->
  ``{"predictions": [Prediction.to_dict(), ...]}``, one per text, in order;
* ``GET /v1/health`` -> ``{"status": "ok", ...}`` (never needs the token);
* ``GET /v1/model`` -> labels, thresholds, corpus version, test metrics;
* ``GET /docs`` -> the OpenAPI page (served offline by fastapi-offline); ``GET /`` -> the desk.

Errors are ``{"error": "one line", "detail": ...}``: 401 without the token, 413 over a size limit,
422 for a body that is not the JSON above (with the reason).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from model.errors import WirecoderError
from training.serve_batching import MicroBatcher

logger = logging.getLogger(__name__)

DESK_DIR = Path(__file__).resolve().parent / "desk"


@dataclass(frozen=True)
class Limits:
    """What one request may hold; past them the answer is 413 with the limit in the message."""

    max_body_bytes: int = 4_000_000
    max_texts: int = 256
    max_chars: int = 100_000


def _metrics_summary(model_dir: Path | None) -> dict | None:
    """The headline numbers of ``metrics.json`` (written by ``wirecoder train``), or None."""
    file = model_dir / "metrics.json" if model_dir else None
    if file is None or not file.is_file():
        return None
    try:
        m = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("%s unreadable (%s): /v1/model shows no metrics", file, exc)
        return None
    out = {k: m.get(k) for k in ("base_model_id", "sentences", "train_seconds", "best_dev_combined_f1")}
    test = (m.get("test") or {}).get("model")
    if isinstance(test, dict):
        pick = lambda part, keys: {k: (test.get(part) or {}).get(k) for k in keys}  # noqa: E731
        out["test"] = {
            "sentences": test.get("sentences"),
            "event_types": pick("event_types", ("micro_f1", "macro_f1")),
            "sub_event_types": pick("sub_event_types", ("micro_f1", "macro_f1", "weighted_f1")),
            "event_detection_accuracy": test.get("event_detection_accuracy"),
            "spans": pick("spans", ("precision", "recall", "f1")),
        }
    return out


def model_info(coder, model_dir: str | Path | None = None) -> dict:
    """What ``GET /v1/model`` answers: the labels and thresholds the model codes with, and where it came from."""
    from model.taxonomy import EVENT_TAXONOMY, SPAN_LABELS, SUB_EVENT_TYPES
    from training.writers import COLOURS, AcledCsvWriter

    cfg = coder.config
    return {
        "model_dir": str(model_dir) if model_dir else None,
        "base_model": getattr(cfg, "base_model_name", None),
        "corpus_version": getattr(cfg, "corpus_version", None),
        "taxonomy": {e: list(subs) for e, subs in EVENT_TAXONOMY.items()},
        "sub_event_types": list(SUB_EVENT_TYPES),
        "span_labels": list(SPAN_LABELS),
        "span_colours": dict(COLOURS),
        "acled_columns": list(AcledCsvWriter.COLUMNS),  # the desk's CSV export writes these
        "thresholds": {s: round(float(t), 4) for s, t in zip(SUB_EVENT_TYPES, coder.thresholds)},
        "max_length": coder.max_length,
        "metrics": _metrics_summary(Path(model_dir) if model_dir else None),
    }


class CodeRequest(BaseModel):
    """The body of ``POST /v1/code``."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(min_length=1, description="the reports to code, each a whole document",
                             examples=[["Gunmen killed two farmers near Gao on Monday."]])
    ids: list[str] | None = Field(None, description="one id per text (default: \"0\", \"1\", ...)")
    document_date: str | None = Field(None, description="the reports' date, YYYY-MM-DD: relative dates "
                                      "(\"on Monday\") in the event rows resolve against it", examples=["2024-03-05"])

    @field_validator("document_date")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            if len(value) != 10:
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date written YYYY-MM-DD") from None
        return value

    @model_validator(mode="after")
    def _one_id_per_text(self) -> CodeRequest:
        if self.ids is not None and len(self.ids) != len(self.texts):
            raise ValueError(f"{len(self.ids)} ids for {len(self.texts)} texts: give one id per text")
        return self


class CodeResponse(BaseModel):
    """The answer of ``POST /v1/code`` (documentation only: the route returns ``Prediction.to_dict()``)."""

    predictions: list[dict] = Field(description="one Prediction.to_dict() per text, in input order: id, text, "
                                    "event_types, sub_event_types, sentences, spans (character offsets) and events")


def _error_line(errors: list[dict]) -> str:
    """``texts.2: Input should be a valid string`` for the first of pydantic's errors."""
    first = errors[0]
    where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "body"
    reason = (first.get("ctx") or {}).get("error")
    return f"{where}: {first['msg']}" + (f" ({reason})" if isinstance(reason, str) and reason not in first["msg"] else "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The raw input is left out: echoing a large body back helps nobody.
        errors = [{k: v for k, v in e.items() if k not in ("input", "url")} for e in exc.errors()]
        for e in errors:  # a ValueError in ctx says no more than msg, and is not JSON
            if not isinstance((e.get("ctx") or {}).get("error", ""), str):
                e["ctx"] = {k: v for k, v in e["ctx"].items() if k != "error"}
                if not e["ctx"]:
                    del e["ctx"]
        errors = jsonable_encoder(errors)
        return JSONResponse({"error": _error_line(errors), "detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail), "detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))


def _token_check(token: str | None):
    """A dependency that lets a request through only with ``Authorization: Bearer <token>`` (when one is set)."""
    bearer = HTTPBearer(auto_error=False, description="the server's --token (or WIRECODER_TOKEN)")
    expected = token.encode("utf-8") if token else None

    async def check(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode("utf-8") if credentials else b""
        # compare_digest: the time taken does not tell how much of the token was right.
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "a valid bearer token is required (Authorization: Bearer <token>)",
                                headers={"WWW-Authenticate": "Bearer"})

    return check


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to be over ``max_bytes``."""
    too_large = HTTPException(413, f"the request body is over {max_bytes} bytes (start the server with a larger "
                                   "--max-body-bytes, or send fewer texts per request)")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():  # a body without Content-Length is counted as it arrives
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _check_sizes(req: CodeRequest, limits: Limits) -> None:
    if len(req.texts) > limits.max_texts:
        raise HTTPException(413, f"{len(req.texts)} texts in one request; the limit is {limits.max_texts} "
                                 "(send several requests, or start the server with a larger --max-texts)")
    for i, text in enumerate(req.texts):
        if len(text) > limits.max_chars:
            raise HTTPException(413, f"text {i} has {len(text)} characters; the limit is {limits.max_chars} per text "
                                     "(split the document, or start the server with a larger --max-chars)")


def create_app(coder, *, model_dir: str | Path | None = None, token: str | None = None, limits: Limits = Limits(),
               cors_origins: list[str] | tuple[str, ...] = (), batch_texts: int = 64, batch_wait_ms: float = 10.0,
               batch_size: int = 64) -> FastAPI:
    """The API and the desk around a loaded coder; the model is never reloaded per request.

    ``batch_texts``/``batch_wait_ms``: a batch is coded once it holds that many texts or its first
    request has waited that long. ``token``: required as a bearer token on every /v1 route but health.
    """
    batcher = MicroBatcher(coder, max_texts=batch_texts, max_wait_ms=batch_wait_ms, batch_size=batch_size)
    info = model_info(coder, model_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        batcher.close()

    app = FastAPIOffline(title="wirecoder", version="1", redoc_url=None, lifespan=lifespan,
                         description="ACLED event coding of conflict reports. `POST /v1/code` codes texts; "
                                     "`GET /` is the coding desk.")
    app.state.batcher = batcher
    _install_error_handlers(app)
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    auth = [Depends(_token_check(token))]
    # The body is parsed here, not by FastAPI, so that every malformed body (bad JSON, bad UTF-8, no
    # content type) gets the same 422 with pydantic's reason; the schema is still documented.
    body_doc = {"requestBody": {"required": True,
                                "content": {"application/json": {"schema": CodeRequest.model_json_schema()}}}}

    @app.post("/v1/code", dependencies=auth, openapi_extra=body_doc, response_model=None,
              responses={200: {"model": CodeResponse}, 401: {"description": "no or wrong bearer token"},
                         413: {"description": "body, texts per request or characters per text over the limit"},
                         422: {"description": "the body is not the JSON described here (the reason is in 'error')"}})
    async def code(request: Request) -> JSONResponse:
        """Code reports: one prediction per text, with sentences, spans (character offsets) and event rows."""
        body = await _read_body(request, limits.max_body_bytes)
        try:
            req = CodeRequest.model_validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
        _check_sizes(req, limits)
        try:
            preds = await asyncio.wrap_future(batcher.submit(req.texts, req.ids, req.document_date))
        except WirecoderError as exc:
            raise HTTPException(422, str(exc)) from None
        return JSONResponse({"predictions": [p.to_dict() for p in preds]})

    @app.get("/v1/health")
    async def health() -> dict:
        """Liveness: answers without the token."""
        s = batcher.stats
        return {"status": "ok", "requests": s.requests, "texts": s.texts, "predict_calls": s.predict_calls}

    @app.get("/v1/model", dependencies=auth)
    async def model() -> dict:
        """The labels and thresholds the model codes with, its corpus version and its test metrics."""
        return info

    # The desk is static files (no data, no model): served without the token, it asks for one.
    @app.get("/", include_in_schema=False)
    async def desk() -> FileResponse:
        return FileResponse(DESK_DIR / "index.html")

    app.mount("/desk", StaticFiles(directory=DESK_DIR), name="desk")
    return app
