"""Uploads are size-checked while they stream in, so an oversized file is never read whole."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from clones.intake import upload_too_large_message

# Multipart framing and the other form fields come on top of the file itself.
FORM_OVERHEAD = 256 * 1024


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading a file past SAMPLE_MAX_BYTES and marks the request, so the form can say why."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # A view may take several recordings at once (lab.uploads.accepts_files); each is still held to the limit.
        files = getattr(getattr(getattr(self.request, "resolver_match", None), "func", None), "sample_files", 1)
        if content_length > files * settings.SAMPLE_MAX_BYTES + FORM_OVERHEAD:
            self.request.upload_too_large = True
            # Far too large to be worth reading just to throw away: parse nothing and answer at once.
            # (Django does not catch StopUpload raised here: returning the empty result is the way.)
            return QueryDict(encoding=encoding), MultiValueDict()

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.SAMPLE_MAX_BYTES:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_too_large_answer(request):
    """For the CSRF failure view: a body dropped for its size took its CSRF token with it; say what happened.

    An upload over the limit is not read (SizeLimitUploadHandler), so the token in the form never
    arrives and the CSRF check fails before any view runs. That is not an attack, and a 403 page
    would not tell the person that their file was too big. Nothing is saved or changed here:
    the answer is only the form again, or for the page's scripts, the reason in JSON.
    """
    message = upload_too_large_message()
    if request.path == reverse("clones:create") and request.user.is_authenticated:
        from clones.forms import CloneForm
        from clones.views import create_page

        return create_page(request, CloneForm({}, {}, owner=request.user, upload_too_large=True), status=413)
    if request.path.startswith("/api/") or not request.headers.get("Accept", "").startswith("text/html"):
        return JsonResponse({"error": str(message)}, status=413)
    return render(request, "413.html", {"message": message}, status=413)
