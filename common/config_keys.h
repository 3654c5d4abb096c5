/*
 * config_keys - the one table of postern.conf keys.
 *
 * Each line: CONFIG_KEY(name, type, default, meaning). The default is
 * parsed like a value from the file, after $name expansion. Expansion sees
 * every key plus config_directory (the directory postern.conf was read
 * from). This table is included by config.h (to make the key enum) and by
 * config.c (to make the key descriptions); nothing else includes it. The
 * man page postern.conf(5) lists the same keys.
 */
CONFIG_KEY(myhostname, CT_HOSTNAME, "",
    "this host's fully qualified name; empty means gethostname()")
CONFIG_KEY(local_domains, CT_LIST, "$myhostname, localhost",
    "domains whose mail is delivered on this host")
CONFIG_KEY(queue_directory, CT_PATH, "/var/spool/postern",
    "the queue: maildrop/, the LMDB queue db/, corrupt/")
CONFIG_KEY(run_directory, CT_PATH, "/run/postern",
    "trigger FIFO, control socket and the queue manager's lock")
CONFIG_KEY(libexec_directory, CT_PATH, "/usr/lib/postern",
    "where the workers the spawner starts are installed")
CONFIG_KEY(log_file, CT_OPTPATH, "",
    "also log to this file, in syslog layout; empty: syslog only")
CONFIG_KEY(syslog_name, CT_STR, "postern",
    "syslog identifier prefix: syslog_name/program[pid]")
CONFIG_KEY(message_size_limit, CT_SIZE, "50M",
    "largest message accepted, in bytes (k, M, G suffixes)")
CONFIG_KEY(header_size_limit, CT_SIZE, "1M",
    "largest header section accepted at injection")
CONFIG_KEY(recipient_limit, CT_COUNT, "10000",
    "most envelope recipients one message may have")
CONFIG_KEY(queue_map_size, CT_SIZE, "8G",
    "LMDB map size: the most the queue database may grow to")
CONFIG_KEY(mail_owner, CT_STR, "postern",
    "user that owns the queue and runs the queue manager")
CONFIG_KEY(drop_group, CT_STR, "postern-drop",
    "group of the setgid injector; may write into maildrop/")
CONFIG_KEY(admin_group, CT_STR, "postern-admin",
    "members may administer the queue with posternctl")
CONFIG_KEY(remote_user, CT_STR, "postern-remote",
    "user the remote delivery workers run as")
CONFIG_KEY(bounce_user, CT_STR, "postern-bounce",
    "user the bounce worker runs as")
CONFIG_KEY(virtual_user, CT_STR, "vmail",
    "user that owns virtual mailboxes")
CONFIG_KEY(default_privs, CT_STR, "nobody",
    "user for alias |command and /file deliveries of root-owned aliases")
CONFIG_KEY(min_local_uid, CT_COUNT, "1000",
    "lowest uid that receives mail as a local user")
CONFIG_KEY(local_concurrency, CT_COUNT, "10",
    "most local delivery jobs in flight")
CONFIG_KEY(remote_concurrency, CT_COUNT, "20",
    "most remote delivery workers")
CONFIG_KEY(destination_concurrency, CT_COUNT, "10",
    "most SMTP sessions to one destination")
CONFIG_KEY(retry_schedule, CT_DURATIONS, "2h 2h 2h 2h 2h",
    "waits between delivery attempts after the first failed one")
CONFIG_KEY(max_queue_lifetime, CT_DURATION, "10h",
    "a recipient still undelivered this long after arrival fails")
CONFIG_KEY(bounce_queue_lifetime, CT_DURATION, "2h",
    "queue lifetime of delivery failure notices")
CONFIG_KEY(delay_warning_after, CT_DURATION, "4h",
    "send one delay warning after this long; 0 turns warnings off")
CONFIG_KEY(command_time_limit, CT_DURATION, "10m",
    "longest a |command delivery may run before it is killed (deferred)")
CONFIG_KEY(shutdown_timeout, CT_DURATION, "30s",
    "on SIGTERM, wait this long for jobs in flight")
CONFIG_KEY(alias_file, CT_OPTPATH, "/etc/aliases",
    "aliases file (/etc/aliases syntax); compiled by postern-newaliases")
CONFIG_KEY(virtual_mailbox_file, CT_OPTPATH, "$config_directory/virtual",
    "virtual mailboxes: 'address  path/' lines; a missing file is empty")
CONFIG_KEY(routes_file, CT_OPTPATH, "$config_directory/routes",
    "per-domain routes: 'domain  [host]:port' or 'domain  host'")
CONFIG_KEY(tls_policy_file, CT_OPTPATH, "$config_directory/tls_policy",
    "per-domain TLS level: 'domain  none|may|encrypt|verify'")
CONFIG_KEY(recipient_delimiter, CT_STR, "+",
    "separates user and extension in local parts; empty: none")
CONFIG_KEY(home_mailbox, CT_STR, "Maildir/",
    "mailbox in the home: ends in / for Maildir, a file for mbox, "
    "empty for mail_spool_directory/USER")
CONFIG_KEY(mail_spool_directory, CT_PATH, "/var/mail",
    "directory of mbox spool files")
CONFIG_KEY(relayhost, CT_STR, "",
    "send all remote mail through this host: host, [host] or [host]:port")
CONFIG_KEY(dns_servers, CT_LIST, "",
    "DNS servers as ip[:port] ...; empty: the system resolver")
CONFIG_KEY(smtp_port, CT_PORT, "25",
    "TCP port of remote SMTP servers")
CONFIG_KEY(smtp_helo_name, CT_HOSTNAME, "$myhostname",
    "name sent in EHLO/HELO")
CONFIG_KEY(smtp_tls_security_level, CT_TLSLEVEL, "may",
    "STARTTLS policy: none, may, encrypt or verify")
CONFIG_KEY(smtp_tls_ca_file, CT_OPTPATH,
    "/etc/ssl/certs/ca-certificates.crt",
    "CA certificates for the verify level")
CONFIG_KEY(smtp_connect_timeout, CT_DURATION, "30s",
    "TCP connect timeout per address")
CONFIG_KEY(smtp_greeting_timeout, CT_DURATION, "5m",
    "wait for the server's greeting")
CONFIG_KEY(smtp_command_timeout, CT_DURATION, "5m",
    "wait for a reply to MAIL, RCPT, RSET, EHLO")
CONFIG_KEY(smtp_data_timeout, CT_DURATION, "10m",
    "wait for the reply to the end of data")
CONFIG_KEY(connection_cache_time, CT_DURATION, "5s",
    "keep an idle SMTP session open this long for the next job")
CONFIG_KEY(connection_reuse_limit, CT_COUNT, "100",
    "most messages sent over one SMTP connection")
CONFIG_KEY(smtp_auth_file, CT_OPTPATH, "$config_directory/smtp_auth",
    "relay credentials: 'nexthop  user:password' lines, mode 0600")
CONFIG_KEY(remote_chroot, CT_PATH, "$queue_directory/empty",
    "empty directory the remote delivery workers chroot into")
CONFIG_KEY(bounce_size_limit, CT_SIZE, "100k",
    "return the whole original in a notice up to this size, else headers")
CONFIG_KEY(postmaster_address, CT_STR, "postmaster",
    "where double bounces go")
