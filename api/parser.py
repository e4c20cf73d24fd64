import json

from ninja.parser import Parser


class StrictJSONParser(Parser):
    """JSON bodies must be UTF-8 text: "\\ud800" is valid JSON but no database can store it."""

    def parse_body(self, request):
        data = json.loads(request.body)
        json.dumps(data, ensure_ascii=False).encode()  # UnicodeEncodeError on lone surrogates: a 400
        return data
