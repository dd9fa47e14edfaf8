"""Conversions every resource uses: proto enums by their API names, images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from pydantic import BaseModel

from vanban.contracts.directory.v1 import directory_pb2
from vanban.gateway.api.schemas.people import ImageOut

if TYPE_CHECKING:
    # The type of a generated enum (`docs.Priority`), over its values' type (typeshed's stubs).
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

Model = TypeVar("Model", bound=BaseModel)


def from_message(model: type[Model], message: Message, **converted: Any) -> Model:
    """A response body from a contract message: each field of `model` is the message's field of
    the same name, except those `converted` gives (timestamps, enums, nested records)."""
    values = {name: getattr(message, name) for name in model.model_fields if name not in converted}
    return model(**values, **converted)


ValueT = TypeVar("ValueT", bound=int)


def enum_names(enum: _EnumTypeWrapper[ValueT]) -> dict[ValueT, str]:
    """The API name of each value of a proto enum, from its descriptor: `PRIORITY_VERY_URGENT`
    of `Priority` is `very_urgent`. `*_UNSPECIFIED` has none."""
    prefix = "".join(
        f"_{c}" if c.isupper() and i else c for i, c in enumerate(enum.DESCRIPTOR.name)
    ).upper()
    return {
        value: name.removeprefix(f"{prefix}_").lower() for name, value in enum.items() if value != 0
    }


def enum_values(enum: _EnumTypeWrapper[ValueT]) -> dict[str, ValueT]:
    """The proto value of each API name (the inverse of `enum_names`)."""
    return {name: value for value, name in enum_names(enum).items()}


def field_mask(fields: set[str]) -> FieldMask:
    """The fields a PATCH body sent, as the update mask of the request it becomes."""
    return FieldMask(paths=sorted(fields))


def image_out(image: directory_pb2.ImageRef | None) -> ImageOut | None:
    """An image field that is set (`HasField`), else None."""
    if image is None:
        return None
    return ImageOut(sha256=image.sha256, size=image.size) if image.sha256 else None
