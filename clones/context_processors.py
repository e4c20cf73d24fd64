from django.conf import settings


def sandbox_mode(request):
    return {"sandbox_mode": settings.BIGMODEL_SANDBOX}
