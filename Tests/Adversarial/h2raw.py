"""A minimal HTTP/2 client over a bare socket (no ``h2`` package: it is not installed and
there is no network), enough to see what a gRPC server does frame by frame: the SETTINGS
it advertises, and what happens to each stream when a client opens more than it allows
(RST_STREAM REFUSED_STREAM on the excess, or GOAWAY killing the whole connection).

Headers are HPACK literals without indexing and without Huffman coding (RFC 7541 6.2.2),
which every decoder must accept; the server's own header blocks are not decoded (frame
types, stream ids, flags and error codes are all the tests need).
"""
from __future__ import annotations

import socket
import struct
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
FRAME_NAMES = {DATA: "DATA", HEADERS: "HEADERS", PRIORITY: "PRIORITY", RST_STREAM: "RST_STREAM",
               SETTINGS: "SETTINGS", PUSH_PROMISE: "PUSH_PROMISE", PING: "PING",
               GOAWAY: "GOAWAY", WINDOW_UPDATE: "WINDOW_UPDATE", CONTINUATION: "CONTINUATION"}
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4

SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4

ERROR_NAMES = {0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR",
               0x3: "FLOW_CONTROL_ERROR", 0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED",
               0x6: "FRAME_SIZE_ERROR", 0x7: "REFUSED_STREAM", 0x8: "CANCEL",
               0x9: "COMPRESSION_ERROR", 0xa: "CONNECT_ERROR", 0xb: "ENHANCE_YOUR_CALM",
               0xc: "INADEQUATE_SECURITY", 0xd: "HTTP_1_1_REQUIRED"}
REFUSED_STREAM = 0x7
PROTOCOL_ERROR = 0x1


class Frame:
    __slots__ = ("type", "flags", "stream", "payload")

    def __init__(self, type_: int, flags: int, stream: int, payload: bytes):
        self.type = type_
        self.flags = flags
        self.stream = stream
        self.payload = payload

    @property
    def error_code(self) -> int | None:
        if self.type == RST_STREAM:
            return struct.unpack(">I", self.payload[:4])[0]
        if self.type == GOAWAY:
            return struct.unpack(">I", self.payload[4:8])[0]
        return None

    def settings(self) -> dict[int, int]:
        out = {}
        for i in range(0, len(self.payload) - 5, 6):
            ident, value = struct.unpack(">HI", self.payload[i:i + 6])
            out[ident] = value
        return out

    def __repr__(self) -> str:
        extra = ""
        if self.error_code is not None:
            extra = f" {ERROR_NAMES.get(self.error_code, self.error_code)}"
            if self.type == GOAWAY and len(self.payload) > 8:
                extra += f" {self.payload[8:200]!r}"
        return (f"{FRAME_NAMES.get(self.type, self.type)}(stream={self.stream}, "
                f"flags={self.flags:#x}, {len(self.payload)} bytes{extra})")


def frame(type_: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([type_, flags]) + \
        struct.pack(">I", stream & 0x7FFFFFFF) + payload


def _hpack_int(value: int, prefix_bits: int = 7) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([value])
    out = [limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def header_block(headers: list[tuple[str, str]]) -> bytes:
    """HPACK: each header a literal without indexing, new name, no Huffman."""
    out = b""
    for name, value in headers:
        n, v = name.encode(), value.encode()
        out += b"\x00" + _hpack_int(len(n)) + n + _hpack_int(len(v)) + v
    return out


def grpc_message(payload: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(payload)) + payload


class Connection:
    """One HTTP/2 connection to 127.0.0.1:``port`` with prior knowledge (h2c). Sends the
    client preface and SETTINGS on connect, with a ``window`` of 16 MiB by default (so the
    server is never held back by us; None keeps HTTP/2's 65,535 bytes); answers the
    server's SETTINGS and PINGs and returns DATA credit while reading."""

    WINDOW = 16 * 1024 * 1024

    def __init__(self, port: int, timeout: float = 5.0, window: int | None = WINDOW):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self.server_settings: dict[int, int] | None = None
        self.frames: list[Frame] = []
        self.closed = False
        # Whether DATA received is credited back at once (False: a client that never reads).
        self.return_credit = True
        self.keep_frames = True
        # RST_STREAM and GOAWAY frames received (kept even when ``keep_frames`` is off).
        self.errors: list[Frame] = []
        # What we may still send (RFC 9113 6.9): the connection's window and each stream's.
        self.send_window = 65535
        self._stream_windows: dict[int, int] = {}
        self._initial_stream_window = 65535
        hello = PREFACE
        if window is None:
            hello += frame(SETTINGS, 0, 0)
        else:
            hello += (frame(SETTINGS, 0, 0, struct.pack(">HI", SETTINGS_INITIAL_WINDOW_SIZE,
                                                        window))
                      + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", window - 65535)))
        self.sock.sendall(hello)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_frame(self, timeout: float) -> Frame | None:
        """The next frame, or None after ``timeout`` seconds or at EOF (``closed``)."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self._buf) >= 9:
                length = struct.unpack(">I", b"\x00" + self._buf[:3])[0]
                if len(self._buf) >= 9 + length:
                    type_, flags = self._buf[3], self._buf[4]
                    stream = struct.unpack(">I", self._buf[5:9])[0] & 0x7FFFFFFF
                    payload = self._buf[9:9 + length]
                    self._buf = self._buf[9 + length:]
                    f = Frame(type_, flags, stream, payload)
                    self._on_frame(f)
                    return f
            left = deadline - time.monotonic()
            if self.closed:
                return None
            if left <= 0:
                # No time left: take only what is already waiting.
                self.sock.setblocking(False)
                try:
                    chunk = self.sock.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    return None
                except OSError:
                    chunk = b""
                finally:
                    self.sock.setblocking(True)
                if not chunk:
                    self.closed = True
                    return None
                self._buf += chunk
                continue
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return None
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            self._buf += chunk

    def _on_frame(self, f: Frame) -> None:
        if self.keep_frames:
            self.frames.append(f)
        if f.type in (RST_STREAM, GOAWAY):
            self.errors.append(f)
        try:
            if f.type == SETTINGS and not f.flags & ACK:
                self.server_settings = f.settings()
                if SETTINGS_INITIAL_WINDOW_SIZE in self.server_settings:
                    new = self.server_settings[SETTINGS_INITIAL_WINDOW_SIZE]
                    for sid in self._stream_windows:
                        self._stream_windows[sid] += new - self._initial_stream_window
                    self._initial_stream_window = new
                self.send(frame(SETTINGS, ACK, 0))
            elif f.type == WINDOW_UPDATE:
                inc = struct.unpack(">I", f.payload[:4])[0] & 0x7FFFFFFF
                if f.stream == 0:
                    self.send_window += inc
                else:
                    self._stream_windows[f.stream] = self.stream_window(f.stream) + inc
            elif f.type == PING and not f.flags & ACK:
                self.send(frame(PING, ACK, 0, f.payload))
            elif f.type == DATA and f.payload and self.return_credit:
                # Give the credit back at once, connection and stream.
                inc = struct.pack(">I", len(f.payload))
                self.send(frame(WINDOW_UPDATE, 0, 0, inc) + frame(WINDOW_UPDATE, 0, f.stream, inc))
        except OSError:
            self.closed = True

    def stream_window(self, stream: int) -> int:
        return self._stream_windows.get(stream, self._initial_stream_window)

    def send_within_window(self, stream: int, messages: list[bytes], timeout: float) -> int:
        """Sends as many of ``messages`` (gRPC-framed) on ``stream`` as the server's flow
        control windows allow, packed in DATA frames of at most 16 KiB, reading frames
        (window updates) for up to ``timeout`` seconds while the windows are shut. Returns
        how many were sent (0: the server granted no credit in time)."""
        deadline = time.monotonic() + timeout
        while min(self.send_window, self.stream_window(stream)) < len(messages[0]):
            if self.read_frame(max(0.0, min(0.05, deadline - time.monotonic()))) is None and (
                    self.closed or time.monotonic() >= deadline):
                return 0
        budget = min(self.send_window, self.stream_window(stream))
        out = []
        frame_payload = b""
        sent = 0
        for m in messages:
            if len(m) > budget:
                break
            if len(frame_payload) + len(m) > 16384:
                out.append(frame(DATA, 0, stream, frame_payload))
                frame_payload = b""
            frame_payload += m
            budget -= len(m)
            sent += 1
        if frame_payload:
            out.append(frame(DATA, 0, stream, frame_payload))
        data = b"".join(out)
        size = sum(len(m) for m in messages[:sent])
        self.send_window -= size
        self._stream_windows[stream] = self.stream_window(stream) - size
        self.sock.settimeout(max(0.1, deadline - time.monotonic()))
        self.sock.sendall(data)
        # Whatever arrived meanwhile (window updates among it), without waiting.
        while self.read_frame(0.0) is not None:
            pass
        return sent

    def read_until(self, pred, timeout: float) -> Frame | None:
        """Reads frames until one matches ``pred``; None after ``timeout`` or at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.read_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                return None
            if pred(f):
                return f

    def drain(self, seconds: float) -> list[Frame]:
        """Reads every frame arriving within ``seconds`` (or until EOF)."""
        out = []
        deadline = time.monotonic() + seconds
        while True:
            f = self.read_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                return out
            out.append(f)

    def grpc_headers(self, stream: int, path: str) -> bytes:
        """The HEADERS frame that opens a gRPC call on ``stream``."""
        block = header_block([
            (":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", f"127.0.0.1:{self.port}"), ("content-type", "application/grpc"),
            ("te", "trailers")])
        return frame(HEADERS, END_HEADERS, stream, block)

    def grpc_request(self, stream: int, path: str, message: bytes, end_stream: bool = False
                     ) -> None:
        """HEADERS for a gRPC call on ``stream`` and one DATA frame with ``message``."""
        self.send(self.grpc_headers(stream, path)
                  + frame(DATA, END_STREAM if end_stream else 0, stream, grpc_message(message)))

    def ping(self, timeout: float) -> bool:
        """Whether a PING is answered (the connection is alive)."""
        data = b"advrsrl!"
        self.send(frame(PING, 0, 0, data))
        return self.read_until(lambda f: f.type == PING and f.flags & ACK and f.payload == data,
                               timeout) is not None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
