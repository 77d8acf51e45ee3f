"""CallFire's v2 API credentials, as the credentials secret holds them: JSON
`{"username": ..., "password": ...}`. Neutral ground for every function that calls the v2 API.
Messages name what is wrong, never a value."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from functions.names import CallfireCredentials


class InvalidCredentials(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:
        return "Credentials(***)"

    @property
    def authorization(self) -> str:
        """The value of an HTTP `Authorization` header (Basic)."""
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def read_credentials(text: str) -> Credentials:
    """Raises InvalidCredentials."""
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidCredentials("it is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidCredentials("it is not a JSON object")
    fields = (CallfireCredentials.USERNAME, CallfireCredentials.PASSWORD)
    missing = [name for name in fields if not isinstance(value.get(name), str) or not value[name]]
    if missing:
        raise InvalidCredentials(f"it has no {' or '.join(missing)} (a non-empty string)")
    return Credentials(value[CallfireCredentials.USERNAME], value[CallfireCredentials.PASSWORD])
