"""The embedded broker: kombu's filesystem transport, with every message written whole before it shows.

Kombu's own `_put` creates a message's file under its final name and then writes into it. A consumer
polling the folder (another worker thread, or another process) can move and read the file in between,
find it empty, and the worker then stops on "Unrecoverable error: JSONDecodeError". Here a message is
written under a name no consumer looks at and renamed into place, which is atomic within one folder:
a consumer only ever sees whole messages. It is what a filesystem:// broker URL means in this project:
voiceclone_site/celery.py points kombu's alias at it, so any other URL (redis://) keeps its own transport.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The same name as kombu's (consumers take files in sorted order and match "<queue>.msg").
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"{name}.partial")  # matches no queue's pattern
        try:
            with open(partial, "wb") as message:
                message.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
