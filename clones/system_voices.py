"""The system voices offered for speech: the provider's own list when we have it, the built-in one if not.

Reference: https://docs.bigmodel.cn/api-reference/模型-api/文本转语音 lists the system voices (tongtong
... luodo) and `/voice/list?voiceType=OFFICIAL` returns the account's current ones. Pages never call the
provider: the beat task `refresh_system_voices` writes the list into the shared "provider" cache and the
forms read it from there, falling back on the built-in list while the cache is empty or the call fails.
"""

import logging

from django.conf import settings
from django.core.cache import caches

from clones.models import SYSTEM_VOICES as BUILT_IN

logger = logging.getLogger(__name__)

CACHE_KEY = "system-voices"


def _cache():
    return caches["provider"]


def refresh(client):
    """Fetch the provider's system voices into the cache; on failure keep what the cache holds."""
    voices = client.list_voices(voice_type="OFFICIAL")
    listed = [(v.voice, v.voice_name or v.voice) for v in voices if v.voice_type in ("", "OFFICIAL")]
    if not listed:
        logger.warning("the provider listed no system voices; keeping the built-in list")
        return []
    # Kept for two refresh periods, so one failed refresh does not drop the list back to the built-in one.
    _cache().set(CACHE_KEY, listed, timeout=2 * settings.SYSTEM_VOICES_REFRESH)
    return listed


def choices():
    """(voice, label) pairs for the speech form: the provider's voices, with our translated label for the
    voices we know and the provider's name for the others; the built-in list when nothing is cached."""
    listed = _cache().get(CACHE_KEY)
    if not listed:
        return list(BUILT_IN)
    labels = dict(BUILT_IN)
    return [(voice, labels.get(voice, name)) for voice, name in listed]


def from_provider():
    """Whether the list on offer came from the provider (False: the built-in fallback)."""
    return bool(_cache().get(CACHE_KEY))
