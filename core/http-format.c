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

void http_format_date(char *buf, size_t cap)
{
    /* Not strftime: the day and month names must not follow the locale. */
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
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
