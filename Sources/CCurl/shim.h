// Typed, non-variadic wrappers around libcurl's variadic calls, which Swift
// cannot call directly. One wrapper per argument type curl accepts.
#ifndef TANDEM_CCURL_SHIM_H
#define TANDEM_CCURL_SHIM_H

#include <curl/curl.h>
#include <sys/types.h>

static inline CURLcode tandem_easy_setopt_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode tandem_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode tandem_easy_setopt_string(CURL *h, CURLoption o, const char *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode tandem_easy_setopt_pointer(CURL *h, CURLoption o, void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode tandem_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
    return curl_easy_setopt(h, o, v);
}

typedef size_t (*tandem_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode tandem_easy_setopt_write_function(CURL *h, tandem_data_callback f) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode tandem_easy_setopt_read_function(CURL *h, tandem_data_callback f) {
    return curl_easy_setopt(h, CURLOPT_READFUNCTION, f);
}
static inline CURLcode tandem_easy_setopt_header_function(CURL *h, tandem_data_callback f) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}

static inline CURLcode tandem_easy_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode tandem_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode tandem_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode tandem_easy_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) {
    return curl_easy_getinfo(h, i, v);
}

static inline CURLMcode tandem_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
    return curl_multi_setopt(m, o, v);
}

/* Macro constants Swift does not import (they are expressions of other macros). */
static inline long tandem_global_all(void) { return CURL_GLOBAL_ALL; }
static inline int tandem_pause_cont(void) { return CURLPAUSE_CONT; }
static inline size_t tandem_readfunc_pause(void) { return CURL_READFUNC_PAUSE; }
static inline size_t tandem_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
static inline size_t tandem_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }

/* The CURLMsg union member for a finished transfer. */
static inline CURLcode tandem_msg_result(const CURLMsg *m) { return m->data.result; }

#endif
