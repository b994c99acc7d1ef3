"""Earshot's store: every SQL statement lives in this package, one module per domain.

The rest of Earshot imports only from here (`import store`; `store.connect(...)`), so the
public names below are the whole interface:

- common: errors, stored times, the write lock, status vocabulary, metadata
- db: opening a database (WAL, settings) and the transaction that waits its turn
- schema: the named migrations
- mentions: keyed upserts from collectors and imports, authors, streaming
- scoring: the classifier's queue and where scores are saved
- inbox: the inbox, its filters and search, one mention's page
- people: author profiles, history, returning customers, thank-yous
- customers: one person's accounts linked across networks, and their history on all of them
- work: status, assignment, tags, notes, corrections, claims, replies, saved replies
- users: staff accounts, login sessions, the login throttle, the audit trail
- collection: collector cursors and run history
- reputation: the dashboard's and the report's queries
- alerts: spike alerts and their deliveries
"""

from .alerts import (  # noqa: F401
    active_alerts,
    add_alert,
    alert_deliveries,
    dismiss_alert,
    due_deliveries,
    get_alert,
    last_alert_end,
    list_alerts,
    record_delivery,
)
from .collection import (  # noqa: F401
    COLLECTOR_RUN_FIELDS,
    close_interrupted_runs,
    collector_runs,
    finish_collector_run,
    get_cursor,
    last_attempted_run,
    record_run_page,
    record_skipped_run,
    set_cursor,
    start_collector_run,
)
from .common import (  # noqa: F401
    ACTIVE_SQL,
    ACTIVE_STATUSES,
    PUBLIC_REPLY_STATUSES,
    STATUSES,
    WRITE_WAIT_SECONDS,
    StoreBusy,
    StoreError,
    _count,
    begin_immediate,
    get_meta,
    parse_utc,
    run_script,
    set_meta,
    utc_text,
    utcnow,
)
from .customers import (  # noqa: F401
    CustomerError,
    customer_accounts,
    customer_mentions,
    customer_replies,
    find_account,
    is_returning,
    link_account,
    thank_you_customers,
    unlink_account,
)
from .db import (  # noqa: F401
    Database,
    connect,
)
from .inbox import (  # noqa: F401
    BROAD_FILTERS,
    INBOX_ORDERS,
    LIST_COLUMNS,
    SEARCH_WINDOW,
    _active_by_urgency,
    distinct_values,
    fts_match,
    get_mention,
    inbox_mentions,
    inbox_status_counts,
    mention_audit,
    mention_corrections,
    mention_notes,
    mention_replies,
    mention_tags,
    mentions_by_ids,
    mentions_since,
    newest_mention_id,
    search_inbox,
    thread_context,
)
from .mentions import (  # noqa: F401
    COLLECTED_COLUMNS,
    REFRESHED_COLUMNS,
    catch_up_search,
    count_mentions,
    iter_mentions,
    mention_id,
    mention_ids,
    upsert_mentions,
)
from .models import *  # noqa: F401,F403
from .outcomes import *  # noqa: F401,F403
from .people import (  # noqa: F401
    author_mentions,
    author_replies,
    get_author,
    is_returning_customer,
    thank_you_mentions,
)
from .reputation import (  # noqa: F401
    REPUTATION_EXPORT_COLUMNS,
    REPUTATION_SAMPLE_COLUMNS,
    SENTIMENTS,
    reputation_answered,
    reputation_assigned,
    reputation_counts,
    reputation_latest,
    reputation_mentions,
    reputation_response_times,
    reputation_unscored,
    reputation_windows,
)
from .schema import (  # noqa: F401
    MIGRATIONS,
    applied_migrations,
    apply_migrations,
    migration,
)
from .scoring import (  # noqa: F401
    LEASE_SECONDS,
    claimed_for_scoring,
    count_unscored,
    mentions_awaiting_refresh,
    mentions_to_score,
    save_claimed_scores,
    save_scores,
    save_urgency,
)
from .users import (  # noqa: F401
    ROLES,
    add_user,
    audit,
    clear_failed_logins,
    end_login_session,
    end_user_sessions,
    failed_logins,
    failed_logins_from,
    get_user,
    list_users,
    login_session_user,
    record_failed_login,
    start_login_session,
    update_user,
    user_display_names,
)
from .work import (  # noqa: F401
    ReplyConflict,
    active_claim,
    add_correction,
    add_demo_reply,
    add_note,
    add_saved_reply,
    add_tag,
    assign,
    claim_mention,
    delete_saved_reply,
    finish_reply,
    get_reply,
    get_reply_by_key,
    public_reply,
    release_claim,
    remove_tag,
    saved_replies,
    sentiment_corrections,
    set_demo_status,
    set_status,
    start_reply,
)
