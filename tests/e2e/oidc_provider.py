"""A stand-in identity provider for the tests: an RSA key, its JWKS over HTTP, signed tokens."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "vanban-gateway"


class OidcProvider:
    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwks = json.dumps(
            {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(jwks)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}/realms/demo"
        self.jwks_url = f"{self.issuer}/protocol/openid-connect/certs"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()

    def env(self) -> dict[str, str]:
        return {
            "VANBAN_GATEWAY_OIDC_ISSUER": self.issuer,
            "VANBAN_GATEWAY_OIDC_AUDIENCE": AUDIENCE,
            "VANBAN_GATEWAY_OIDC_JWKS_URL": self.jwks_url,
            "VANBAN_GATEWAY_OIDC_USERNAME_CLAIM": "preferred_username",
        }

    def token(self, *, key: rsa.RSAPrivateKey | None = None, ttl: int = 300, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        return jwt.encode(body, key or self._key, algorithm="RS256", headers={"kid": self.kid})
