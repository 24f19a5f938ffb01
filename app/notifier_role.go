package app

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"pharos/app/config"
	"pharos/app/notify"
	"pharos/app/store"
)

// notifyChannels builds the subscriber channels from cfg: webhooks always,
// email when PHAROS_SMTP_URL is set. closeAll releases their connections.
func notifyChannels(cfg config.Config, log *slog.Logger) (senders map[string]notify.Sender, closeAll func(), err error) {
	hook := notify.NewWebhook(notify.WebhookOptions{AllowPrivate: cfg.AllowPrivateTargets,
		MaxIdlePerHost: notify.DefaultConcurrency})
	senders = map[string]notify.Sender{notify.KindWebhook: hook}
	closers := []func(){hook.Close}
	closeAll = func() {
		for _, c := range closers {
			c()
		}
	}
	if cfg.SMTPURL == "" {
		log.Info("email notifications off: PHAROS_SMTP_URL is not set")
		return senders, closeAll, nil
	}
	mail, err := notify.NewEmail(notify.EmailOptions{SMTPURL: cfg.SMTPURL, BaseURL: cfg.BaseURL, SecretKey: []byte(cfg.SecretKey)})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	senders[notify.KindEmail] = mail
	closers = append(closers, func() {
		if err := mail.Close(); err != nil {
			log.Warn("closing SMTP connections", slog.Any("error", err))
		}
	})
	return senders, closeAll, nil
}

// newNotifier builds the notifier role over st with senders.
func newNotifier(cfg config.Config, st *store.Store, senders map[string]notify.Sender, log *slog.Logger,
	reg prometheus.Registerer) (*notify.Notifier, error) {
	return notify.New(notify.Options{Store: st, Senders: senders, BaseURL: cfg.BaseURL, SecretKey: []byte(cfg.SecretKey),
		Logger: log, Registry: reg})
}
