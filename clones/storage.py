"""Media storage for STORAGE=s3: django-storages' S3 backend, plus reading a byte range.

Django's storage API has no ranged read, and django-storages' S3 file downloads the whole object
the first time it is read. A player seeking in a long utterance sends many Range requests, so the
audio views ask the storage for just the bytes they send (see `_stream` in clones/audio_responses.py).
"""

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class S3MediaStorage(S3Storage):
    def read_range(self, name, start, length, chunk_size):
        """The bytes start..start+length-1 of a stored file, as chunks, fetched with one ranged GET."""
        key = self._normalize_name(clean_name(name))
        body = self.bucket.Object(key).get(Range=f"bytes={start}-{start + length - 1}")["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()
