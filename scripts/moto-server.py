"""moto_server, handling one request at a time.

Real DynamoDB applies each conditional write atomically (two racing PutItem / TransactWriteItems
with `attribute_not_exists(pk)`: exactly one succeeds). moto_server runs requests on parallel
threads without a lock around its DynamoDB backend, so under load two racing conditional writes
can both pass the check. Serializing requests gives the tests DynamoDB's per-request atomicity;
everything else is moto's own `moto_server` (same arguments: -H HOST -p PORT).
"""

import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    with _lock:
        # Materialise the body inside the lock: the response is then complete and consistent.
        return list(_dispatch(self, environ, start_response))


DomainDispatcherApplication.__call__ = _serialized

if __name__ == "__main__":
    server.main()
