"""Views that take several recordings in one request.

clones.uploads.SizeLimitUploadHandler refuses a request larger than one sample unread; a view marked
here lets it read up to `count` files, each still held to SAMPLE_MAX_BYTES.
"""


def accepts_files(count):
    def mark(view):
        view.sample_files = count
        return view

    return mark
