/* http-format.c -- status lines, dates and the HTTP layer's error responses. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http-server-internal.h"

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* The date of second `t`, formatted by hand (no locale, no stdio). */
static void format_date_at(time_t t, char out[30])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&t, &tm);
    int year = (tm.tm_year + 1900) % 10000;
    char *p = out;
    memcpy(p, days[tm.tm_wday % 7], 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    *p++ = (char)('0' + tm.tm_mday / 10);
    *p++ = (char)('0' + tm.tm_mday % 10);
    *p++ = ' ';
    memcpy(p, months[tm.tm_mon % 12], 3);
    p += 3;
    *p++ = ' ';
    *p++ = (char)('0' + year / 1000);
    *p++ = (char)('0' + year / 100 % 10);
    *p++ = (char)('0' + year / 10 % 10);
    *p++ = (char)('0' + year % 10);
    *p++ = ' ';
    *p++ = (char)('0' + tm.tm_hour / 10);
    *p++ = (char)('0' + tm.tm_hour % 10);
    *p++ = ':';
    *p++ = (char)('0' + tm.tm_min / 10);
    *p++ = (char)('0' + tm.tm_min % 10);
    *p++ = ':';
    *p++ = (char)('0' + tm.tm_sec / 10);
    *p++ = (char)('0' + tm.tm_sec % 10);
    memcpy(p, " GMT", 5); /* with the NUL: 29 characters and a NUL */
}

size_t http_date_now(char out[30])
{
    /* Every response carries the date: format it once per second per thread
     * (gmtime_r and the formatting cost more than the rest of the head). */
    static _Thread_local time_t cached_sec = (time_t)-1;
    static _Thread_local char cached[30];
    time_t now = time(NULL);
    if (now != cached_sec) {
        format_date_at(now, cached);
        cached_sec = now;
    }
    memcpy(out, cached, 30);
    return 29;
}

void http_format_date(char *buf, size_t cap)
{
    char date[30];
    http_date_now(date);
    if (cap == 0)
        return;
    size_t n = cap - 1 < 29 ? cap - 1 : 29;
    memcpy(buf, date, n);
    buf[n] = '\0';
}

void http_error_xml(struct evbuffer *out, const char *code, const char *message,
                    const char *request_id)
{
    /* code, message and request_id are the layer's own constants: no escaping needed. */
    evbuffer_add_printf(out,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId>"
                        "</Error>",
                        code, message, request_id);
}

void http_error_response(struct evbuffer *out, int status, const char *code, const char *message,
                         const char *request_id, int close_conn)
{
    struct evbuffer *body = evbuffer_new();
    if (!body)
        return;
    http_error_xml(body, code, message, request_id);
    char date[64];
    http_format_date(date, sizeof(date));
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: cairn\r\n"
                        "Content-Type: application/xml\r\nx-amz-request-id: %s\r\n"
                        "Content-Length: %zu\r\n%s\r\n",
                        status, http_reason(status), date, request_id,
                        evbuffer_get_length(body), close_conn ? "Connection: close\r\n" : "");
    evbuffer_add_buffer(out, body);
    evbuffer_free(body);
}
