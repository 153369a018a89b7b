"""Certificate issuance: serials, verification codes, PDF storage."""


def connect_listeners() -> None:
    pass
