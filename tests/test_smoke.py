def test_home_page_in_vietnamese(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "Xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú" in r.get_data(as_text=True)
