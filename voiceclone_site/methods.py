"""Which HTTP methods the site answers: HEAD wherever GET works, and 405 for methods no page handles.

Load balancers and link previewers probe with HEAD; Django's `require_GET` refuses it. Rather than
trusting every view to say `require_safe`, HEAD is answered here as a GET whose body is dropped
(RFC 9110, section 9.3.2: the same headers, Content-Length included, and no content). A streamed
body (audio) is dropped before it is read, so a probe costs no file reads.

The pages only ever use GET and POST; PUT, PATCH, DELETE and OPTIONS got the page as for a GET.
Under /api/ the API answers every method itself, in JSON.
"""

from django.http import HttpResponseNotAllowed

PAGE_METHODS = ("GET", "HEAD", "POST")


class HttpMethodsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in PAGE_METHODS and not request.path.startswith("/api/"):
            return HttpResponseNotAllowed(PAGE_METHODS)
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        response = self.get_response(request)
        if response.streaming:
            response.streaming_content = []  # the generator never started: no file was opened
        else:
            response.content = b""
        return response
