from django.conf import settings


def site(request):
    return {
        "sandbox_mode": settings.BIGMODEL_SANDBOX,
        "signup_enabled": settings.SIGNUP_ENABLED,
        "watermark_enabled": settings.BIGMODEL_WATERMARK,
    }
