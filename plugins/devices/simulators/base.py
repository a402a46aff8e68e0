"""The serving machinery shared by every simulator: one thread, a selector, a wake-up pipe; TCP on
127.0.0.1 or a pseudo-terminal; started and stopped cleanly, never a sleep (tests wait on a
condition: ``wait_for``)."""
from __future__ import annotations

import os
import selectors
import socket
import threading
import tty
from typing import Callable

LOOPBACK = "127.0.0.1"


class Connection:
    """One peer: a TCP client or the pseudo-terminal's master side."""

    def __init__(self, sim: "Simulator", fileobj, write: Callable[[bytes], None]):
        self.sim = sim
        self.fileobj = fileobj
        self._write = write
        self.state: dict = {}

    def send(self, data: bytes) -> None:
        try:
            self._write(data)
        except OSError:  # the peer went away; the selector will notice
            pass


class Simulator:
    """Subclasses implement ``on_data(conn, data)`` (and may use ``on_connect``/``on_disconnect``)."""

    name = "device"
    label = "Simulator"
    code = "device"

    def __init__(self, *, transport: str = "tcp", port: int = 0):
        if transport not in ("tcp", "pty"):
            raise ValueError("transport is 'tcp' or 'pty'")
        self.transport = transport
        self.port = port
        self.changed = threading.Condition()
        self.connections: list[Connection] = []
        self.connection_count = 0
        self._thread: threading.Thread | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r = self._wake_w = None
        self._listener: socket.socket | None = None
        self._master = self._slave = None
        self.pty_path: str | None = None
        self._send_lock = threading.Lock()

    # ------------------------------------------------------------------ life cycle

    @property
    def url(self) -> str:
        if self.transport == "pty":
            return self.pty_path or ""
        return f"socket://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "Simulator":
        if self.running:
            return self
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        if self.transport == "tcp":
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((LOOPBACK, self.port))
            listener.listen(8)
            listener.setblocking(False)
            self.port = listener.getsockname()[1]
            self._listener = listener
            self._selector.register(listener, selectors.EVENT_READ, "accept")
        else:
            self._master, self._slave = os.openpty()
            tty.setraw(self._slave)  # no echo, no line discipline: bytes pass as they are
            self.pty_path = os.ttyname(self._slave)
            master = self._master
            conn = Connection(self, master, lambda data: self._write_fd(master, data))
            self._add(conn)
            self._selector.register(master, selectors.EVENT_READ, conn)
        self._thread = threading.Thread(target=self._serve, name=f"sim-{self.code}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=10)
        self._thread = None
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._selector.close()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        with self.changed:
            self.connections.clear()
            self.changed.notify_all()

    def restart(self) -> "Simulator":
        """Stop, then serve again on the same port (clients must reconnect)."""
        self.stop()
        return self.start()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ controls

    def drop_connections(self) -> None:
        """Close every client connection now (TCP), as a cable pulled out; the server keeps listening."""
        self._call_in_loop("drop")

    def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0):
        """Wait until ``predicate()`` is true (checked each time the simulator's state changes)."""
        with self.changed:
            ok = self.changed.wait_for(predicate, timeout)
        if not ok:
            raise AssertionError(f"{self.label}: condition not met within {timeout} s")
        return ok

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def broadcast(self, data: bytes) -> int:
        """Send ``data`` to every connected peer (a scanner's scan); returns how many got it."""
        with self.changed:
            conns = list(self.connections)
        for conn in conns:
            conn.send(data)
        return len(conns)

    # ------------------------------------------------------------------ protocol hooks

    def on_connect(self, conn: Connection) -> None:
        pass

    def on_disconnect(self, conn: Connection) -> None:
        pass

    def on_data(self, conn: Connection, data: bytes) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ the loop

    def _write_fd(self, fd: int, data: bytes) -> None:
        with self._send_lock:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]

    def _add(self, conn: Connection) -> None:
        with self.changed:
            self.connections.append(conn)
            self.connection_count += 1
            self.changed.notify_all()
        self.on_connect(conn)

    def _remove(self, conn: Connection) -> None:
        try:
            self._selector.unregister(conn.fileobj)
        except (KeyError, ValueError):
            pass
        if isinstance(conn.fileobj, socket.socket):
            conn.fileobj.close()
        with self.changed:
            if conn in self.connections:
                self.connections.remove(conn)
            self.changed.notify_all()
        self.on_disconnect(conn)

    _pending_calls: list

    def _call_in_loop(self, what: str) -> None:
        if not self.running:
            return
        done = threading.Event()
        self.__dict__.setdefault("_pending_calls", []).append((what, done))
        os.write(self._wake_w, b"c")
        done.wait(5)

    def _serve(self) -> None:
        stop = False
        while not stop:
            for key, _mask in self._selector.select():
                tag = key.data
                if tag == "wake":
                    signal = os.read(self._wake_r, 64)
                    for what, done in self.__dict__.pop("_pending_calls", []):
                        if what == "drop":
                            for conn in [c for c in self.connections if isinstance(c.fileobj, socket.socket)]:
                                self._remove(conn)
                        done.set()
                    if b"x" in signal:
                        stop = True
                elif tag == "accept":
                    try:
                        client, _addr = self._listener.accept()
                    except OSError:
                        continue
                    client.setblocking(True)
                    conn = Connection(self, client, lambda data, c=client: self._send_socket(c, data))
                    self._selector.register(client, selectors.EVENT_READ, conn)
                    self._add(conn)
                else:
                    conn = tag
                    try:
                        if isinstance(conn.fileobj, socket.socket):
                            data = conn.fileobj.recv(4096)
                        else:
                            data = os.read(conn.fileobj, 4096)
                    except OSError:
                        data = b""
                    if not data:
                        if isinstance(conn.fileobj, socket.socket):
                            self._remove(conn)
                        continue
                    self.on_data(conn, data)
                    self.notify()
        for conn in list(self.connections):
            if isinstance(conn.fileobj, socket.socket):
                self._remove(conn)

    def _send_socket(self, sock: socket.socket, data: bytes) -> None:
        with self._send_lock:
            sock.sendall(data)
