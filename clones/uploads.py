"""Uploads are size-checked while they stream in, so an oversized file is never read whole."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading a file past SAMPLE_MAX_BYTES and marks the request, so the form can say why.

    StopUpload is only handled by Django while files stream in (raised from handle_raw_input it would be
    a 500), so even a request whose Content-Length is already too large is stopped there.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_length = content_length or 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.SAMPLE_MAX_BYTES:
            self.request.upload_too_large = True
            # Far too large to be worth reading the rest just to throw it away: answer at once.
            raise StopUpload(connection_reset=self.request_length > 4 * settings.SAMPLE_MAX_BYTES)
        return raw_data

    def file_complete(self, file_size):
        return None
