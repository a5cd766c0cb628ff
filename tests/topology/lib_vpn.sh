# The Contoso on-premises site and the gateway's VPN configuration (issue
# 12), for the scripts that build a site-to-site VPN (test_gateway_s2s.sh,
# scripts/lab.sh --vpn). Sourced by lib.sh; uses its helpers (topo_ns,
# topo_link, ns, $W, $P).

# ---- the Contoso on-premises site (issue 12): unmodified strongSwan and FRR ----
# configured here, by the script, not by the project (RECIPES.md §1–§2): the
# site gateway in namespace NS holds 10.1.3.100 on eth0 (the "Internet", the
# gateway compartment's ext0 is 10.1.3.2), a route-based IKEv2 tunnel to
# 10.1.3.2 (PSK, identities onprem.example / gw.contoso.example, AES-GCM-256
# / ECP-384, kernel-libipsec: ipsec0 10.255.0.2 peer 10.255.0.1) and eBGP AS
# 65002 <-> 65001 over it, announcing PREFIX... (routes that exist in the
# site). The site's LAN: the host in namespace HOST (10.2.0.10/24 on eth0,
# default route via the site's 10.2.0.1 on lan). Both namespaces exist
# (topo_ns), NS's eth0 is linked to the gateway's external port. Its files,
# logs and sockets are in $W/site-* ; its daemons run in the foreground as
# our children (cleaned up by PID).
# topo_site NS HOST PSK PREFIX...
topo_site() {
  local n=$1 host=$2 psk=$3 sw=$W/site-swan fr=$W/site-frr i p nets=""
  shift 3
  for p in "$@"; do nets+="  network $p"$'\n'; done
  topo_link "$host" eth0 "$n" lan
  ip -n "$P$host" addr add 10.2.0.10/24 dev eth0
  ip -n "$P$host" route add default via 10.2.0.1
  ip -n "$P$n" addr add 10.2.0.1/24 dev lan
  ns "$n" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$P$n" addr add 10.1.3.100/24 dev eth0
  ns "$n" ethtool -K eth0 tx off >/dev/null
  mkdir -p "$fr/run" "$sw"/{run,private,x509,x509ca,x509ocsp,x509aa,x509ac,x509crl,pubkey,rsa,ecdsa,bliss,pkcs8,pkcs12}
  cat >"$sw/strongswan.conf" <<CONF
charon {
    load = random nonce openssl aes sha1 sha2 hmac gcm pem pkcs1 pkcs8 x509 pubkey curve25519 kdf kernel-libipsec kernel-netlink socket-default vici
    install_routes = yes
    routing_table = 220
    routing_table_prio = 32767
    filelog {
        site {
            path = $sw/charon.log
            default = 1
            ike_name = yes
        }
    }
    plugins {
        vici {
            socket = unix://$sw/charon.vici
        }
    }
}
swanctl {
    socket = unix://$sw/charon.vici
}
CONF
  cat >"$sw/swanctl.conf" <<CONF
connections {
    gw {
        version = 2
        local_addrs = 10.1.3.100
        remote_addrs = 10.1.3.2
        encap = yes
        mobike = no
        dpd_delay = 2
        proposals = aes256gcm16-prfsha384-ecp384
        local {
            auth = psk
            id = onprem.example
        }
        remote {
            auth = psk
            id = gw.contoso.example
        }
        children {
            gw {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                esp_proposals = aes256gcm16-ecp384
                start_action = none
                dpd_action = clear
            }
        }
    }
}
secrets {
    ike-gw {
        id-1 = onprem.example
        id-2 = gw.contoso.example
        secret = "$psk"
    }
}
CONF
  chmod 600 "$sw/swanctl.conf"
  # charon's pid file path is fixed (/run/charon.pid): a private /run.
  topo_bg env STRONGSWAN_CONF="$sw/strongswan.conf" ip netns exec "$P$n" \
    sh -c 'mount --bind "$1" /run && exec /usr/lib/ipsec/charon' _ "$sw/run" >"$sw/charon.stdout" 2>&1
  for i in $(seq 100); do [ -S "$sw/charon.vici" ] && break; sleep 0.1; done
  site_swanctl --load-all --noprompt --file "$sw/swanctl.conf" >/dev/null || die "site: swanctl --load-all failed"
  ip -n "$P$n" addr add 10.255.0.2 peer 10.255.0.1 dev ipsec0
  cat >"$fr/bgpd.conf" <<CONF
router bgp 65002
 bgp router-id 10.255.0.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 10.255.0.1 remote-as 65001
 neighbor 10.255.0.1 timers 10 30
 neighbor 10.255.0.1 timers connect 2
 address-family ipv4 unicast
$nets  neighbor 10.255.0.1 activate
 exit-address-family
CONF
  echo "hostname onprem" >"$fr/zebra.conf"
  touch "$fr/vtysh.conf"
  chown -R frr:frr "$fr"
  local c=(-u frr -g frr -P 0 --vty_socket "$fr/run" -z "$fr/run/zserv.api")
  topo_bg ip netns exec "$P$n" /usr/lib/frr/zebra "${c[@]}" -f "$fr/zebra.conf" -i "$fr/run/zebra.pid" \
    >"$fr/zebra.stdout" 2>&1
  for i in $(seq 100); do [ -S "$fr/run/zserv.api" ] && break; sleep 0.1; done
  topo_bg ip netns exec "$P$n" /usr/lib/frr/bgpd "${c[@]}" -f "$fr/bgpd.conf" -i "$fr/run/bgpd.pid" \
    >"$fr/bgpd.stdout" 2>&1
}

# topo_vpn_gateway_config DIR PSK: the chapter's gateway configuration in
# DIR (gateway.yaml, tenants/contoso.yaml, secrets/contoso.yaml) with the
# Contoso tenant's VPN to topo_site's site: connection "onprem" (route-based,
# 10.1.3.2 -> 10.1.3.100, tunnel 10.255.0.1 <-> 10.255.0.2, DPD every 2 s)
# and eBGP AS 65001 <-> 65002 over it (keepalive 10 s, hold 30 s: a
# saturated tunnel must not starve the session), accepting 10.2.0.0/16 up
# to /24.
topo_vpn_gateway_config() {
  local d=$1 psk=$2
  topo_gateway_config "$d"
  mkdir -p "$d/secrets"
  {
    cat <<YAML
site_to_site:
  secrets: ../secrets/contoso.yaml
  connections:
    - name: onprem
      local_address: 10.1.3.2
      peer_address: 10.1.3.100
      local_id: gw.contoso.example
      remote_id: onprem.example
      dpd_delay: 2
      tunnel: {local: 10.255.0.1, peer: 10.255.0.2}
bgp:
  asn: 65001
  neighbors:
    - connection: onprem
      remote_asn: 65002
      accept: [10.2.0.0/16 le 24]
YAML
  } >>"$d/tenants/contoso.yaml"
  printf 'psk:\n  onprem: "%s"\n' "$psk" >"$d/secrets/contoso.yaml"
  chmod 600 "$d/secrets/contoso.yaml"
}

# site_swanctl ARGS...: swanctl against the site's charon.
site_swanctl() { STRONGSWAN_CONF=$W/site-swan/strongswan.conf swanctl "$@"; }
# site_vtysh CMD...: vtysh against the site's FRR, one -c per argument.
site_vtysh() {
  local a=() c
  for c in "$@"; do a+=(-c "$c"); done
  vtysh --vty_socket "$W/site-frr/run" --config_dir "$W/site-frr" "${a[@]}"
}
