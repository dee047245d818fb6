"""Subscriptions to subject changes, and the deliveries made to them (each attempt visible)."""

from rest_framework import serializers
from rest_framework.response import Response

from schemas_app import notifications
from schemas_app.api.common import RegistryView
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import IsSignedIn
from schemas_app.models import Subscription


class SubscriptionInputSerializer(serializers.Serializer):
    subjectPrefix = serializers.CharField(required=False, allow_blank=True, default="")
    webhookUrl = serializers.URLField(required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    events = serializers.ListField(child=serializers.CharField(), required=False, default=list)


def subscription_body(subscription: Subscription) -> dict:
    return {
        "id": subscription.pk,
        "owner": subscription.owner.get_username(),
        "subjectPrefix": subscription.subject_prefix,
        "webhookUrl": subscription.webhook_url or None,
        "email": subscription.email or None,
        "events": subscription.events or list(Subscription.EVENTS),
        "active": subscription.active,
        "createdAt": subscription.created_at.isoformat(),
    }


class SubscriptionView(RegistryView):
    permission_classes = [IsSignedIn]


@documented(request=SubscriptionInputSerializer)
class SubscriptionListView(SubscriptionView):
    def get(self, request):
        found = notifications.subscription_list(tenant=self.tenant, viewer=request.user)
        return Response([subscription_body(subscription) for subscription in found])

    def post(self, request):
        serializer = SubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = notifications.subscription_create(
            tenant=self.tenant,
            subject_prefix=data["subjectPrefix"],
            webhook_url=data["webhookUrl"],
            email=data["email"],
            events=data["events"],
            acting_user=request.user,
        )
        body = subscription_body(subscription)
        body["webhookSecret"] = subscription.webhook_secret or None  # shown once
        return Response(body, status=201)


@documented()
class SubscriptionDetailView(SubscriptionView):
    def get(self, request, subscription_id):
        return Response(
            subscription_body(
                notifications.subscription_get(tenant=self.tenant, subscription_id=subscription_id, viewer=request.user)
            )
        )

    def delete(self, request, subscription_id):
        notifications.subscription_delete(tenant=self.tenant, subscription_id=subscription_id, acting_user=request.user)
        return Response(status=204)


@documented()
class SubscriptionRotateView(SubscriptionView):
    """Give a webhook subscription a new signing secret (in this answer only); the old one stops signing at once."""

    def post(self, request, subscription_id):
        subscription, secret = notifications.subscription_secret_rotate(
            tenant=self.tenant, subscription_id=subscription_id, acting_user=request.user
        )
        return Response({**subscription_body(subscription), "webhookSecret": secret})


@documented()
class SubscriptionDeliveriesView(SubscriptionView):
    """Deliveries to a subscription, newest first, with every attempt's status code or error."""

    def get(self, request, subscription_id):
        subscription = notifications.subscription_get(
            tenant=self.tenant, subscription_id=subscription_id, viewer=request.user
        )
        deliveries = notifications.delivery_list(subscription=subscription)
        return Response(
            [
                {
                    "id": delivery.pk,
                    "event": delivery.event,
                    "channel": delivery.channel,
                    "status": delivery.status,
                    "createdAt": delivery.created_at.isoformat(),
                    "deliveredAt": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
                    "attempts": [
                        {
                            "at": attempt.attempted_at.isoformat(),
                            "statusCode": attempt.status_code,
                            "error": attempt.error,
                        }
                        for attempt in delivery.attempt_log.all()
                    ],
                }
                for delivery in deliveries
            ]
        )
