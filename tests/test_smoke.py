def test_home_page_in_vietnamese(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "Xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú" in r.get_data(as_text=True)


def test_security_headers(client):
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in r.headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
