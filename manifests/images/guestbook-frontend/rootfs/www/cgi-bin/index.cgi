#!/bin/sh
# The guestbook's frontend page (busybox httpd runs it for "/"): on every request it asks the
# backend, found through the service variables Kubernetes v1.0 gives every container, and builds
# the page from the answer. A POSTed form adds an entry, then redirects to "/" (GET ?entry=TEXT
# adds one too). The entry goes on to the backend still form-encoded (only form-encoding's own
# characters pass); the backend decodes it. Everything printed into the page is HTML-escaped.
set -u
# The backend service's name, as Kubernetes turns it into variable names: upper case, - -> _.
service=${BACKEND_SERVICE:-guestbook-backend}
prefix=$(printf '%s' "$service" | tr 'a-z-' 'A-Z_')

# env NAME: the value of the variable NAME (no eval).
env_value() {
    awk -v name="$1" 'BEGIN { print ENVIRON[name] }'
}

# param NAME QUERY: the raw (still encoded) value of NAME in a form-encoded QUERY.
param() {
    printf '%s\n' "$2" | tr '&' '\n' | sed -n "s/^$1=//p" | head -n 1
}

html() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' \
        -e "s/'/\\&#39;/g"
}

# page TITLE MESSAGE: the whole page (entries and backend pod from the globals).
page() {
    printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
    printf '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Guestbook</title></head>\n'
    printf '<body>\n<h1>Guestbook</h1>\n'
    [ -z "$2" ] || printf '<p class="error">%s</p>\n' "$(printf '%s' "$2" | html)"
    printf '<form method="post" action="/">\n'
    printf '<input name="entry" maxlength="200" autofocus> <button>Sign</button>\n</form>\n'
    printf '<ul id="entries">\n'
    printf '%s\n' "$entries" | html | sed -e '/^$/d' -e 's|.*|<li>&</li>|'
    printf '</ul>\n<p id="served">frontend pod <b id="frontend">%s</b>' "$(hostname | html)"
    printf ', backend pod <b id="backend">%s</b> via %s</p>\n' \
        "$(printf '%s' "$backend_pod" | html)" "$(printf '%s' "$1" | html)"
    printf '</body></html>\n'
    exit 0
}

entries=
backend_pod=unknown
host=$(env_value "${prefix}_SERVICE_HOST")
port=$(env_value "${prefix}_SERVICE_PORT")
[ -n "$host" ] && [ -n "$port" ] || page "-" "no ${prefix}_SERVICE_HOST/PORT: the \
$service service did not exist when this pod started; create it, then delete this pod"

query=${QUERY_STRING:-}
method=${REQUEST_METHOD:-GET}
if [ "$method" = POST ]; then
    length=${CONTENT_LENGTH:-0}
    case $length in '' | *[!0-9]*) length=0 ;; esac
    [ "$length" -le 4096 ] || length=0
    query=$(head -c "$length")
fi
raw=$(param entry "$query")
case $raw in
    *[!A-Za-z0-9._~*%+-]*) page "$host:$port" "the entry must be form-encoded" ;;
esac
path=/cgi-bin/entries
[ -z "$raw" ] || path="$path?entry=$raw"

answer=$(printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$service" |
    nc -w 3 "$host" "$port" | tr -d '\r')
case $(printf '%s\n' "$answer" | head -n 1) in
    'HTTP/'*' 200 '*) ;;
    *) page "$host:$port" "the backend at $host:$port did not answer" ;;
esac
body=$(printf '%s\n' "$answer" | sed '1,/^$/d')
backend_pod=$(printf '%s\n' "$body" | sed -n '1s/^pod: //p')
entries=$(printf '%s\n' "$body" | sed '1,2d')
if [ "$method" = POST ]; then
    printf 'HTTP/1.0 303 See Other\r\nLocation: /\r\nContent-Length: 0\r\n\r\n'
    exit 0
fi
page "$host:$port" ""
