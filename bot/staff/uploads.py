"""Files staff upload from a phone or a desk: photos (checked and re-encoded with Pillow) and
forum minutes, stored under MEDIA_DIR like residents' photos and never served publicly."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import Request
from PIL import Image, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from storage.base import utcnow

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
# A phone's photo is shrunk to this many pixels on its longer side; enough to see the work.
PHOTO_SIDE = 2048
# Pillow refuses images over this many pixels instead of decoding a decompression bomb.
MAX_PIXELS = 50_000_000
MINUTES_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_MAGIC = {
    ".pdf": b"%PDF",
    ".jpg": b"\xff\xd8",
    ".jpeg": b"\xff\xd8",
    ".png": b"\x89PNG",
    ".docx": b"PK",
}


@dataclass(frozen=True)
class Stored:
    """A file kept under MEDIA_DIR: its relative path, type and size."""

    path: str
    content_type: str
    size: int


def allow_upload(request: Request) -> None:
    """Let this request carry one upload (the app's limit is sized for LINE's webhook)."""
    request.max_content_length = MAX_UPLOAD_BYTES + 256 * 1024


def chosen(upload: FileStorage | None) -> bool:
    """Tell whether the form's file field holds a file."""
    return upload is not None and bool(upload.filename)


def store_photo(upload: FileStorage, media_dir: str | Path) -> Stored:
    """Check a photo (a real JPEG, PNG or WebP of at most 10 MB) and keep it as a JPEG.

    Re-encoding drops what the file carries besides the picture (EXIF with the phone's GPS
    position, the camera's serial). Raises ValueError with a Thai reason.
    """
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValueError("รูปภาพใหญ่เกิน 10 MB กรุณาเลือกรูปที่เล็กลง")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise ValueError("รับเฉพาะรูปภาพ JPEG, PNG หรือ WebP")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValueError("รูปภาพมีขนาดพิกเซลใหญ่เกินไป")
            probe.verify()
        with Image.open(io.BytesIO(content)) as image:
            image = image.convert("RGB")
            image.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValueError("ไฟล์นี้ไม่ใช่รูปภาพที่เปิดได้ กรุณาเลือกรูปภาพ JPEG, PNG หรือ WebP") from None
    return _write(buffer.getvalue(), ".jpg", "image/jpeg", media_dir)


def store_minutes(upload: FileStorage, media_dir: str | Path) -> Stored:
    """Keep a forum's minutes (PDF, Word .docx, JPEG or PNG, at most 10 MB) as uploaded.

    Raises ValueError with a Thai reason when the type or the size is wrong.
    """
    extension = Path(upload.filename or "").suffix.lower()
    if extension not in MINUTES_TYPES:
        raise ValueError("รับรายงานการประชุมเป็นไฟล์ PDF, Word (.docx), JPEG หรือ PNG")
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValueError("ไฟล์รายงานการประชุมใหญ่เกิน 10 MB")
    if not content.startswith(_MAGIC[extension]):
        raise ValueError("เนื้อไฟล์ไม่ตรงกับชนิดไฟล์ กรุณาตรวจสอบไฟล์รายงานการประชุม")
    return _write(content, extension, MINUTES_TYPES[extension], media_dir)


def _write(content: bytes, extension: str, content_type: str, media_dir: str | Path) -> Stored:
    relative = Path(utcnow().strftime("%Y/%m")) / f"{uuid.uuid4().hex}{extension}"
    target = Path(media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".part")
    temporary.write_bytes(content)
    temporary.replace(target)
    return Stored(path=relative.as_posix(), content_type=content_type, size=len(content))
