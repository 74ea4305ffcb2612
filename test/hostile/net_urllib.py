# Fetches a URL from the test's listener with urllib.
import urllib.request
urllib.request.urlopen("http://127.0.0.1:{{PORT}}/", timeout=2).read()
