"""Routes of the Confluent-compatible API and the management API.

Subject names may contain "/" (import paths sent as %2F arrive decoded), so subject
patterns match anything and the fixed suffixes decide the route. Where our management
paths meet Confluent's (/schemas/ids/..., /schemas/types, /schemas/guids/...), Confluent's
meaning wins: `ids`, `types` and `guids` are reserved subject names there.
"""

from django.urls import re_path

from schemas_app.api import (
    codegen,
    confluent,
    lifecycle,
    management,
    private_copies,
    reviews,
    subscriptions,
    tenants,
    tokens,
)

SUBJECT = r"(?P<subject>[\s\S]+?)"
VERSION = r"(?P<version>[^/]+)"
REVIEW = r"(?P<review_id>\d+)"

LANGUAGE = r"(?P<language>[a-z0-9_]+)"

urlpatterns = [
    re_path(r"^tenants$", tenants.TenantListView.as_view(), name="tenants"),
    re_path(r"^tenants/(?P<slug>[-\w]+)$", tenants.TenantDetailView.as_view(), name="tenant"),
    re_path(r"^tenants/(?P<slug>[-\w]+)/config$", tenants.TenantConfigView.as_view(), name="tenant-config"),
    # Code generation (schemas_app/codegen_jobs.py); before the subject patterns, which match anything.
    re_path(r"^generate/languages$", codegen.LanguagesView.as_view(), name="codegen-languages"),
    re_path(rf"^generate/{LANGUAGE}$", codegen.GenerateView.as_view(), name="codegen-generate"),
    re_path(r"^jobs/(?P<job_id>[0-9a-fA-F-]{32,36})$", codegen.JobView.as_view(), name="codegen-job"),
    re_path(rf"^generated/{LANGUAGE}/latest$", codegen.LatestView.as_view(), name="codegen-latest"),
    re_path(
        rf"^generated/{LANGUAGE}/(?P<version>[0-9a-f]{{64}})$", codegen.DownloadView.as_view(), name="codegen-download"
    ),
    re_path(r"^tokens$", tokens.TokenListView.as_view(), name="tokens"),
    re_path(r"^tokens/(?P<token_id>[^/]+)$", tokens.TokenDetailView.as_view(), name="token"),
    re_path(r"^tokens/(?P<token_id>[^/]+)/rotate$", tokens.TokenRotateView.as_view(), name="token-rotate"),
    re_path(r"^subjects$", confluent.SubjectListView.as_view(), name="subjects"),
    re_path(
        rf"^subjects/{SUBJECT}/versions/{VERSION}/schema$",
        confluent.SubjectVersionSchemaView.as_view(),
        name="subject-version-schema",
    ),
    re_path(
        rf"^subjects/{SUBJECT}/versions/{VERSION}/referencedby$",
        confluent.ReferencedByView.as_view(),
        name="subject-version-referencedby",
    ),
    re_path(
        rf"^subjects/{SUBJECT}/versions/{VERSION}/deprecate$",
        lifecycle.VersionDeprecateView.as_view(),
        name="subject-version-deprecate",
    ),
    re_path(
        rf"^subjects/{SUBJECT}/private-copy$", private_copies.PrivateCopyView.as_view(), name="subject-private-copy"
    ),
    re_path(rf"^subjects/{SUBJECT}/deprecate$", lifecycle.SubjectDeprecateView.as_view(), name="subject-deprecate"),
    re_path(
        rf"^subjects/{SUBJECT}/versions/{VERSION}$", confluent.SubjectVersionView.as_view(), name="subject-version"
    ),
    re_path(rf"^subjects/{SUBJECT}/versions$", confluent.SubjectVersionsView.as_view(), name="subject-versions"),
    re_path(rf"^subjects/{SUBJECT}$", confluent.SubjectView.as_view(), name="subject"),
    re_path(r"^schemas$", confluent.SchemaListView.as_view(), name="schemas"),
    re_path(r"^schemas/types$", confluent.SchemaTypesView.as_view(), name="schema-types"),
    re_path(
        r"^schemas/ids/(?P<schema_id>[0-9]+)/schema$",
        confluent.SchemaByIdSchemaView.as_view(),
        name="schema-by-id-schema",
    ),
    re_path(
        r"^schemas/ids/(?P<schema_id>[0-9]+)/versions$",
        confluent.SchemaIdVersionsView.as_view(),
        name="schema-id-versions",
    ),
    re_path(
        r"^schemas/ids/(?P<schema_id>[0-9]+)/subjects$",
        confluent.SchemaIdSubjectsView.as_view(),
        name="schema-id-subjects",
    ),
    re_path(r"^schemas/ids/(?P<schema_id>[0-9]+)$", confluent.SchemaByIdView.as_view(), name="schema-by-id"),
    re_path(r"^schemas/guids/(?P<guid>[^/]+)$", confluent.SchemaByGuidView.as_view(), name="schema-by-guid"),
    re_path(
        rf"^schemas/{SUBJECT}/versions$",
        management.ManagedSubjectVersionsView.as_view(),
        name="managed-subject-versions",
    ),
    re_path(
        rf"^schemas/{SUBJECT}/compatibility$",
        management.ManagedCompatibilityView.as_view(),
        name="managed-compatibility",
    ),
    re_path(rf"^schemas/{SUBJECT}$", management.ManagedSubjectView.as_view(), name="managed-subject"),
    re_path(r"^metrics/message-sizes$", management.MessageSizesView.as_view(), name="message-sizes"),
    re_path(
        rf"^compatibility/subjects/{SUBJECT}/versions/{VERSION}$",
        confluent.CompatibilityView.as_view(),
        name="compatibility-version",
    ),
    re_path(
        rf"^compatibility/subjects/{SUBJECT}/versions$", confluent.CompatibilityView.as_view(), name="compatibility"
    ),
    re_path(r"^config$", confluent.ConfigView.as_view(), name="config"),
    re_path(rf"^config/{SUBJECT}$", confluent.ConfigView.as_view(), name="subject-config"),
    re_path(r"^mode$", confluent.ModeView.as_view(), name="mode"),
    re_path(rf"^mode/{SUBJECT}$", confluent.SubjectModeView.as_view(), name="subject-mode"),
    re_path(r"^subscriptions$", subscriptions.SubscriptionListView.as_view(), name="subscriptions"),
    re_path(
        r"^subscriptions/(?P<subscription_id>\d+)$",
        subscriptions.SubscriptionDetailView.as_view(),
        name="subscription",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>\d+)/rotate$",
        subscriptions.SubscriptionRotateView.as_view(),
        name="subscription-rotate",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>\d+)/deliveries$",
        subscriptions.SubscriptionDeliveriesView.as_view(),
        name="subscription-deliveries",
    ),
    re_path(r"^reviews$", reviews.ReviewListView.as_view(), name="reviews"),
    re_path(rf"^reviews/{REVIEW}$", reviews.ReviewDetailView.as_view(), name="review"),
    re_path(rf"^reviews/{REVIEW}/approve$", reviews.ReviewApproveView.as_view(), name="review-approve"),
    re_path(rf"^reviews/{REVIEW}/reject$", reviews.ReviewRejectView.as_view(), name="review-reject"),
    re_path(rf"^reviews/{REVIEW}/withdraw$", reviews.ReviewWithdrawView.as_view(), name="review-withdraw"),
    re_path(rf"^reviews/{REVIEW}/comments$", reviews.ReviewCommentsView.as_view(), name="review-comments"),
    re_path(r"^contexts$", confluent.ContextsView.as_view(), name="contexts"),
    re_path(r"^private-copies$", private_copies.PrivateCopyListView.as_view(), name="private-copies"),
    re_path(
        r"^associations/resources/(?P<namespace>[^/]+)/(?P<resource>.+)$",
        confluent.AssociationsView.as_view(),
        name="associations",
    ),
]
