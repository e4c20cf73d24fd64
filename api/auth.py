"""Bearer tokens (accounts.ApiToken). The API never looks at cookies, so it needs no CSRF protection."""

from ninja.security import HttpBearer

from accounts.models import ApiToken
from api.errors import InvalidToken


class TokenAuth(HttpBearer):
    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            return None  # Ninja answers 401 "not_authenticated"
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise InvalidToken()
        return self.authenticate(request, secret.strip())

    def authenticate(self, request, token):
        user = ApiToken.user_for(token)
        if user is None:
            raise InvalidToken()
        request.user = user  # whatever a session cookie said, the token decides who this is
        return user
