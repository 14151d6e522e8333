from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EchoRequest(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class EchoResponse(_message.Message):
    __slots__ = ("message", "hostname", "linkage", "linkage_label", "go_version", "client_cert_info")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    LINKAGE_FIELD_NUMBER: _ClassVar[int]
    LINKAGE_LABEL_FIELD_NUMBER: _ClassVar[int]
    GO_VERSION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CERT_INFO_FIELD_NUMBER: _ClassVar[int]
    message: str
    hostname: str
    linkage: str
    linkage_label: str
    go_version: str
    client_cert_info: str
    def __init__(self, message: _Optional[str] = ..., hostname: _Optional[str] = ..., linkage: _Optional[str] = ..., linkage_label: _Optional[str] = ..., go_version: _Optional[str] = ..., client_cert_info: _Optional[str] = ...) -> None: ...
