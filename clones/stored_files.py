"""The stored files that go with rows being deleted, found through Django's own cascade.

Deleting a row deletes the rows that point at it (on_delete=CASCADE), however many apps away they
are: a clone takes its speech, the lab's sample parts and the library's clips with it, and an account
takes its studio projects, their takes and exports, and its transcriptions. Their files are not rows,
so they would stay behind; asking the same collector that `delete()` uses which rows go finds every
file, including those of models added later.
"""

from django.db import router
from django.db.models import FileField
from django.db.models.deletion import Collector


def _file_fields(model):
    return [field for field in model._meta.concrete_fields if isinstance(field, FileField)]


def files_of(instance):
    """Return the stored files (non-empty FieldFiles) of `instance` and of every row its deletion takes along."""
    collector = Collector(using=router.db_for_write(type(instance), instance=instance))
    collector.collect([instance])
    groups = [(model, rows) for model, rows in collector.data.items()]
    # Rows Django deletes with one query, without loading them; only models that have files are read.
    groups += [(queryset.model, queryset) for queryset in collector.fast_deletes if _file_fields(queryset.model)]
    files = []
    for model, rows in groups:
        fields = _file_fields(model)
        for row in rows if fields else ():
            files.extend(value for field in fields if (value := getattr(row, field.attname)))
    return files


def delete_files(files):
    for file in files:
        file.delete(save=False)


def delete_with_files(instance):
    """Delete `instance`, every row that goes with it, and all their stored files (the files first: if
    the rows then fail to go, a retry finds them without files, rather than files without rows)."""
    delete_files(files_of(instance))
    instance.delete()
