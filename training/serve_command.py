"""``wirecoder serve``: arguments, then the model loaded once and handed to uvicorn."""

from __future__ import annotations

import argparse
import logging
import os

from model.errors import WirecoderError

logger = logging.getLogger(__name__)

TOKEN_ENV = "WIRECODER_TOKEN"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def serve_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="wirecoder serve",
                                description="Serve a model over HTTP: POST /v1/code, the OpenAPI docs at /docs and "
                                            "the coding desk at /.")
    p.add_argument("--model", required=True, help="a directory written by `wirecoder train`")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", default=None, help="bearer token every route but /v1/health requires "
                   "(default: the WIRECODER_TOKEN environment variable; none: no token)")
    p.add_argument("--cors-origin", action="append", default=[], help="allow browser pages of this origin "
                   "(e.g. https://desk.example.org) to call the API; repeatable (default: no CORS)")
    p.add_argument("--max-body-bytes", type=_positive, default=4_000_000, help="largest request body (413 above)")
    p.add_argument("--max-texts", type=_positive, default=256, help="most texts in one request (413 above)")
    p.add_argument("--max-chars", type=_positive, default=100_000, help="most characters in one text (413 above)")
    p.add_argument("--batch-texts", type=_positive, default=64,
                   help="code requests together until a batch holds this many texts ...")
    p.add_argument("--batch-wait-ms", type=float, default=10.0, help="... or its first request waited this long")
    p.add_argument("--batch-size", type=_positive, default=64, help="sentences per forward pass")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--int8", action="store_true", help="int8 encoder on the CPU: about 3x faster, slightly less accurate")
    p.add_argument("--backend", choices=["auto", "onnx", "torch"], default="auto",
                   help="auto: the directory's ONNX export on the CPU when there is one; torch: always the PyTorch "
                   "weights (an int8 export's scores depend on the texts batched together)")
    args = p.parse_args(argv)
    if args.batch_wait_ms < 0:
        raise WirecoderError("--batch-wait-ms must be 0 or more")
    try:
        import uvicorn

        from training.serve import Limits, create_app
    except ImportError as exc:
        raise WirecoderError(f"wirecoder serve needs the [serve] extra ({exc.name} is missing): "
                             "pip install 'wirecoder[serve]'") from exc
    from model.predictor import EventCoder

    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    if not token and args.host not in LOOPBACK_HOSTS:
        logger.warning("listening on %s without a token: anyone who can reach this port can use the model", args.host)
    coder = EventCoder.from_pretrained(args.model, device="cpu" if args.int8 else args.device, quantize=args.int8,
                                       backend=args.backend)
    app = create_app(coder, model_dir=args.model, token=token, cors_origins=args.cors_origin,
                     limits=Limits(args.max_body_bytes, args.max_texts, args.max_chars),
                     batch_texts=args.batch_texts, batch_wait_ms=args.batch_wait_ms, batch_size=args.batch_size)
    logger.info("serving %s on http://%s:%d/ (desk at /, API docs at /docs)%s", args.model, args.host, args.port,
                "; a bearer token is required" if token else "")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
