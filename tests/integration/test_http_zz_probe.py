import json, base64
from uuid import uuid4
from functions import command_api, query_api
from horizon.local.apigw import from_result, to_event
from horizon.local.lambda_context import LocalContext
from tests.integration.http_support import stack, call, command, create_invite
__all__=["stack"]
U = str(uuid4())
CASES = [
 ("POST", "/commands/CreateInvite", {}, b"[" * 10000 + b"]" * 10000),
 ("POST", "/commands/CreateInvite", {}, b'{"a":' * 10000 + b"1" + b"}" * 10000),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":' % U).encode() + b"[" * 10000 + b"]" * 10000 + b"}"),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"x","age":%s}' % (U, "4" * 5000)).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"x","age":%s}' % (U, "1" * 4000)).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"x","age":1e400}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"x","age":NaN}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"x","age":-Infinity}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, b'\xff\xfe\x00'),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"' % U).encode() + b'\xff"}'),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"\\ud800","age":151}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","\\ud800":1}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"a\x01b\x00"}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, ('\ufeff{"id":"%s","name":"x"}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","name":"x"}junk' % U).encode()),
 ("POST", "/commands/CreateInvite", {"content-type": "application/evil+json"}, b'{"id":1}'),
 ("POST", "/commands/CreateInvite", {"content-type": "text/plain"}, b'{}'),
 ("POST", "/commands/CreateInvite", {"content-type": ""}, b'{"x":1}'),
 ("POST", "/commands/CreateInvite", {"content-type": "application/json; charset=utf-16"}, '{"x":1}'.encode("utf-16")),
 ("POST", "/commands/../invitations", {}, b'{}'),
 ("POST", "/commands/%00", {}, b'{}'),
 ("POST", "/commands/\x00", {}, b'{}'),
 ("POST", "/commands/" + "A" * 100000, {}, b'{}'),
 ("POST", "/commands/", {}, b'{}'),
 ("POST", "/commands/__class__", {}, b'{}'),
 ("POST", "/commands/createinvite", {}, b'{}'),
 ("POST", "/commands/CreateInvite/extra", {}, b'{}'),
 ("POST", "/commands/CreateInvite%2F..%2Finvitations", {}, b'{}'),
 ("POST", "/commands/CreateInvite?id=" + U + "&name=x", {}, b''),
 ("POST", "/commands/CreateInvite", {"idempotency-key": "\x00" * 200}, b'{}'),
 ("POST", "/commands/CreateInvite", {"x-correlation-id": "c" * 100000}, b'{"id":"nope"}'),
 ("POST", "/commands/CreateInvite", {}, json.dumps({f"k{i}": i for i in range(3000)}).encode()),
 ("POST", "/commands/CreateInvite", {}, ('{"id":"%s","id":"bad","name":"x"}' % U).encode()),
 ("POST", "/commands/CreateInvite", {}, b" " * 60000 + b"{}"),
 ("GET", "/invitations?limit=1&limit=2", {}, b""),
 ("GET", "/invitations?cursor=a&cursor=b", {}, b""),
 ("GET", "/invitations?limit=%00", {}, b""),
 ("GET", "/invitations?limit=99999999999999999999999999", {}, b""),
 ("GET", "/invitations?limit=" + "9" * 5000, {}, b""),
 ("GET", "/invitations?" + "&".join(f"p{i}=x" for i in range(2000)), {}, b""),
 ("GET", "/invitations?cursor=" + "[" * 1000, {}, b""),
 ("GET", "/invitations?cursor=" + base64.urlsafe_b64encode("é".encode()*380).decode(), {}, b""),
 ("GET", "/invitations/" + "a" * 10000, {}, b""),
 ("GET", "/invitations/..%2F..%2Fetc%2Fpasswd", {}, b""),
 ("GET", "/invitations/../guestlist", {}, b""),
 ("GET", f"/aggregates/Invitation%23x/{U}/events", {}, b""),
 ("GET", f"/aggregates/__class__/{U}/events", {}, b""),
 ("GET", f"/aggregates/Invitation/{U}/events/../../x", {}, b""),
 ("GET", "/health", {}, b"[[[["),
 ("OPTIONS", "/commands/CreateInvite", {}, b""),
 ("HEAD", "/health", {}, b""),
 ("post", "/commands/CreateInvite", {}, b"{}"),
 ("PATCH", "/invitations", {}, b"{}"),
 ("", "/health", {}, b""),
 ("GET", "", {}, b""),
 ("GET", "//health", {}, b""),
 ("GET", "/health/", {}, b""),
 ("GET", "/" + "é" * 1000, {}, b""),
]

def route(method, target):
    return command_api.handler if method == "POST" and target.startswith("/commands/") else query_api.handler

import logging, traceback
class H(logging.Handler):
    def emit(self, r):
        if r.exc_info:
            tb = traceback.extract_tb(r.exc_info[2])
            print("   EXC", repr(r.exc_info[1])[:200], [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in tb[-3:]])
logging.getLogger("horizon.http.resolver").addHandler(H())
def test_probe(stack):
    create_invite()
    before = stack.event_count()
    for m, t, h, b in CASES:
        hh = {"content-type": "application/json"} if b else {}
        hh.update(h)
        try:
            ev = to_event(m, t, hh, b, "127.0.0.1")
            st, hd, raw = from_result(route(m, t)(ev, LocalContext("x")))
        except Exception as e:
            print("RAISED", m, t[:60], repr(e)[:200]); continue
        flag = "!!!!" if st >= 500 else ""
        print(flag, st, m, t[:50], repr(b[:40]), raw[:160])
        assert stack.event_count() == before
