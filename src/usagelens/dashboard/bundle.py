"""The built front end in ``assets/`` (gitignored: `make web` writes it), read once per file
version and kept in memory with its gzip form and ETag."""

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"

PAGES = ("signin.html", "dashboard.html")
SCRIPTS_AND_STYLES = ("signin.js", "dashboard.js", "dashboard.css")

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}

NOT_BUILT = (
    "The dashboard is not built: its bundle is missing from {folder}.\n"
    "Build it with `make web` (or `cd web && npm ci && npm run build`), then reload.\n"
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> "Asset":
        return cls(
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
            media_type=media_type,
        )


class Bundle:
    def __init__(self, folder: Path = ASSETS) -> None:
        self.folder = folder
        # name -> (mtime_ns, size, asset): a rebuild while the server runs is picked up at once.
        self._cache: dict[str, tuple[int, int, Asset]] = {}

    def missing(self) -> list[str]:
        return [
            name for name in (*PAGES, *SCRIPTS_AND_STYLES) if not (self.folder / name).is_file()
        ]

    def not_built_message(self) -> str:
        return NOT_BUILT.format(folder=self.folder)

    def get(self, name: str) -> Asset | None:
        """The file ``name`` of the bundle, or None when it is not one (or not built)."""
        if name not in PAGES and name not in SCRIPTS_AND_STYLES:
            return None
        path = self.folder / name
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        cached = self._cache.get(name)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        asset = Asset.of(path.read_bytes(), MEDIA_TYPES[path.suffix])
        self._cache[name] = (stat.st_mtime_ns, stat.st_size, asset)
        return asset
