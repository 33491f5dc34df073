"""Check an SMS code with verifyd from the seed's Django register view.

Standard library only. make test runs this file against the real verifyd
binary (test/migrating_test.go), so what docs/MIGRATING.md shows works.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

VERIFYD_URL = "http://127.0.0.1:8000"  # where verifyd listens, seen from Django


def verify_sms_code(mobile, sms_code, base_url=VERIFYD_URL, timeout=3.0,
                    accept_language="zh-CN"):
    """Return (True, "") if sms_code is the live code of mobile, which it then
    consumes (a code verifies once), else (False, errmsg) with verifyd's text
    for the user. Raises OSError when verifyd cannot be reached or answers
    with an outage (HTTP 5xx), which the view should report as a server error.
    Pass the user's request.META.get("HTTP_ACCEPT_LANGUAGE") as
    accept_language, so errmsg is in the language the page is read in.
    """
    url = "%s/sms_codes/%s/verify/" % (
        base_url.rstrip("/"),
        urllib.parse.quote(mobile, safe=""),  # "+8613800138000" -> "%2B86..."
    )
    body = json.dumps({"sms_code": sms_code}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "Accept-Language": accept_language or "zh-CN"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as e:
        raise OSError("verifyd answered HTTP %d" % e.code) from e
    if answer.get("code") == "0":
        return True, ""
    return False, answer.get("errmsg", "")


if __name__ == "__main__":
    import sys

    ok, errmsg = verify_sms_code(sys.argv[2], sys.argv[3], base_url=sys.argv[1])
    print(json.dumps({"ok": ok, "errmsg": errmsg}, ensure_ascii=False))
