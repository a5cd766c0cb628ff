# hnvctl in the gateway VM talks to hnv-gateway@gateway.
export HNV_SOCKET=/run/hnv/gateway.sock
