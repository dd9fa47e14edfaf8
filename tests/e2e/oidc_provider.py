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


# How often the gateway under test fetches the key set again.
JWKS_REFRESH_SECONDS = 2


class OidcProvider:
    def __init__(self) -> None:
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        # Keys no longer published, still at hand to forge tokens with in tests.
        self._retired: dict[str, rsa.RSAPrivateKey] = {}
        self.kid = self.add_key()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = provider.jwks()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}/realms/demo"
        self.jwks_url = f"{self.issuer}/protocol/openid-connect/certs"

    def add_key(self) -> str:
        """Publishes one more signing key (a rotation in progress); returns its key id."""
        kid = uuid.uuid4().hex
        self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def remove_key(self, kid: str) -> None:
        """Stops publishing a key, as a provider does when a key is retired or compromised."""
        self._retired[kid] = self._keys.pop(kid)

    def jwks(self) -> bytes:
        keys = [
            {
                **json.loads(RSAAlgorithm.to_jwk(key.public_key())),
                "kid": kid,
                "use": "sig",
                "alg": "RS256",
            }
            for kid, key in list(self._keys.items())
        ]
        return json.dumps({"keys": keys}).encode()

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
            "VANBAN_GATEWAY_OIDC_JWKS_REFRESH_SECONDS": str(JWKS_REFRESH_SECONDS),
        }

    def token(
        self,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        ttl: int = 300,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        kid = kid or self.kid
        return jwt.encode(
            body,
            key or self._keys.get(kid) or self._retired[kid],
            algorithm="RS256",
            headers={"kid": kid, **(headers or {})},
        )
