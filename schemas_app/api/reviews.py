"""The review API: held changes, their reports, and the decisions on them."""

from functools import cached_property

from rest_framework import serializers
from rest_framework.response import Response

from schemas_app import reviews, selectors
from schemas_app.api.common import RegistryView
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import IsSignedIn
from schemas_app.models import ChangeRequest, Tenant


def review_url(request, change_request: ChangeRequest) -> str:
    return request.build_absolute_uri(f"/reviews/{change_request.pk}")


def pending_body(request, change_request: ChangeRequest) -> dict:
    """The 202 answer of a registration the review policy holds."""
    return {
        "status": change_request.status,
        "review_id": change_request.pk,
        "review_url": review_url(request, change_request),
    }


def _username(user) -> str | None:
    return user.get_username() if user else None


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def review_summary(request, change_request: ChangeRequest) -> dict:
    return {
        "id": change_request.pk,
        "status": change_request.status,
        "tenant": change_request.tenant.slug,
        "subject": change_request.subject_name,
        "author": _username(change_request.author),
        "createdAt": _when(change_request.created_at),
        "heldBecause": change_request.held_because,
        "breaking": change_request.breaking,
        "semanticVersion": change_request.semantic_version or None,
        "preparation": {"state": change_request.preparation, "progress": change_request.progress},
        "reviewUrl": review_url(request, change_request),
    }


def review_detail(request, change_request: ChangeRequest) -> dict:
    body = review_summary(request, change_request)
    registered = change_request.registered_version
    body.update(
        proposed={"schema": change_request.schema_text, "references": change_request.references},
        baseVersion=change_request.base_version,
        diff=change_request.diff,
        compatibilityFindings=change_request.compatibility_findings,
        lintFindings=change_request.lint_findings,
        change=change_request.change or None,
        impact=change_request.impact,
        requiredApprovals=change_request.required_approvals,
        approvals=[
            {"user": _username(approval.approver), "at": _when(approval.created_at)}
            for approval in change_request.approvals.all()
        ],
        noticeEndsAt=_when(change_request.notice_ends_at),
        noticeOverrideReason=change_request.notice_override_reason or None,
        comments=[
            {"author": _username(comment.author), "text": comment.text, "createdAt": _when(comment.created_at)}
            for comment in change_request.comments.all()
        ],
        decidedBy=_username(change_request.decided_by),
        decidedAt=_when(change_request.decided_at),
        decisionReason=change_request.decision_reason or None,
        registeredVersion=(
            {"subject": change_request.subject_name, "version": registered.version, "id": registered.schema_id}
            if registered
            else None
        ),
    )
    body["preparation"]["error"] = change_request.preparation_error or None
    return body


class ReviewView(RegistryView):
    """Base of the review endpoints: `?tenant=` (a slug the caller may read) picks the tenant, the default otherwise."""

    @cached_property
    def tenant(self):
        slug = self.request.query_params.get("tenant") or Tenant.DEFAULT_SLUG
        return selectors.readable_tenant(viewer=self.request.user, slug=slug)

    def detail(self, review_id) -> Response:
        change_request = selectors.change_request_detail(tenant=self.tenant, review_id=review_id)
        return Response(review_detail(self.request, change_request))


class SignedInReviewView(ReviewView):
    """Deciding and commenting need a signed-in user; the services check the role on the change's subject."""

    permission_classes = [IsSignedIn]


@documented()
class ReviewListView(ReviewView):
    def get(self, request):
        found = selectors.change_request_list(
            tenant=self.tenant,
            status=request.query_params.get("status"),
            subject=request.query_params.get("subject"),
            author=request.query_params.get("author"),
        )
        return Response([review_summary(request, change_request) for change_request in found])


@documented()
class ReviewDetailView(ReviewView):
    def get(self, request, review_id):
        return self.detail(review_id)


class ApproveInputSerializer(serializers.Serializer):
    overrideReason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CommentInputSerializer(serializers.Serializer):
    text = serializers.CharField()


@documented(request=ApproveInputSerializer)
class ReviewApproveView(SignedInReviewView):
    def post(self, request, review_id):
        data = _validated(ApproveInputSerializer, request)
        reviews.change_request_approve(
            tenant=self.tenant, review_id=review_id, override_reason=data["overrideReason"], acting_user=request.user
        )
        return self.detail(review_id)


@documented(request=ReasonInputSerializer)
class ReviewRejectView(SignedInReviewView):
    def post(self, request, review_id):
        data = _validated(ReasonInputSerializer, request)
        reviews.change_request_reject(
            tenant=self.tenant, review_id=review_id, reason=data["reason"], acting_user=request.user
        )
        return self.detail(review_id)


@documented(request=ReasonInputSerializer)
class ReviewWithdrawView(SignedInReviewView):
    def post(self, request, review_id):
        data = _validated(ReasonInputSerializer, request)
        reviews.change_request_withdraw(
            tenant=self.tenant, review_id=review_id, reason=data["reason"], acting_user=request.user
        )
        return self.detail(review_id)


@documented(request=CommentInputSerializer)
class ReviewCommentsView(SignedInReviewView):
    def post(self, request, review_id):
        data = _validated(CommentInputSerializer, request)
        reviews.review_comment_add(tenant=self.tenant, review_id=review_id, text=data["text"], acting_user=request.user)
        return Response(
            review_detail(request, selectors.change_request_detail(tenant=self.tenant, review_id=review_id)), status=201
        )


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
