import time

from metrics import instruments

# Any other method is counted as "other": a label value per made-up method would grow without end.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetricsMiddleware:
    """Time every request, labelled by the view that answered (its URL name, not its path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match else "<unmatched>"
        method = request.method if request.method in METHODS else "other"
        instruments.http_request_seconds.labels(view, method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
