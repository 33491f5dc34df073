package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/rueidis"
)

// serveFloorHandler runs the bare SMS-request handler the SMS path is compared with:
// Fiber with its defaults and one rueidis client, reading the same JSON body
// and doing the seed's minimum Redis work (GETDEL the captcha, SET NX the
// resend flag, SET the code), nothing else. It runs in a process of its own,
// as verifyd does, until SIGINT or SIGTERM.
func serveFloorHandler(addr, redisURL string) error {
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	opt.DisableCache = true
	rc, err := rueidis.NewClient(opt)
	if err != nil {
		return err
	}
	defer rc.Close()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/readyz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"code": "0"}) })
	app.Post("/sms_codes/:mobile/", func(c *fiber.Ctx) error {
		var in struct {
			UUID      string `json:"uuid"`
			ImageCode string `json:"image_code"`
		}
		if err := c.BodyParser(&in); err != nil {
			return c.JSON(fiber.Map{"code": "4003", "errmsg": "bad body"})
		}
		mobile := c.Params("mobile")
		ctx := c.UserContext()
		answer, err := rc.Do(ctx, rc.B().Getdel().Key("img_"+in.UUID).Build()).ToString()
		if err != nil || !strings.EqualFold(answer, in.ImageCode) {
			return c.JSON(fiber.Map{"code": "4001", "errmsg": "bad captcha"})
		}
		err = rc.Do(ctx, rc.B().Set().Key("send_flag_"+mobile).Value("1").Nx().ExSeconds(60).Build()).Error()
		if rueidis.IsRedisNil(err) {
			return c.JSON(fiber.Map{"code": "4002", "errmsg": "too frequent"})
		}
		if err != nil {
			return c.Status(503).JSON(fiber.Map{"code": "5000", "errmsg": err.Error()})
		}
		if err := rc.Do(ctx, rc.B().Set().Key("sms_"+mobile).Value("123456").ExSeconds(300).Build()).Error(); err != nil {
			return c.Status(503).JSON(fiber.Map{"code": "5000", "errmsg": err.Error()})
		}
		return c.JSON(fiber.Map{"code": "0", "errmsg": "Send SMS successfully"})
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(addr) }()
	select {
	case err := <-errc:
		return fmt.Errorf("floor: %w", err)
	case <-ctx.Done():
	}
	if err := app.ShutdownWithTimeout(5 * time.Second); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
