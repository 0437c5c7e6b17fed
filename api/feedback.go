package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// feedbackRequest is a rating of an answer, with words when the person
// has some.
type feedbackRequest struct {
	Rating  string  `json:"rating" binding:"required,oneof=up down"`
	Comment *string `json:"comment" binding:"omitempty,max=2000"`
}

// rateAnswer records what the person an answer was for thought of it:
// up or down, and a comment. Rated again, the new rating replaces the
// first. Anyone else's message is 404; a message that is not the
// assistant's (one's own, a person-to-person message) is 422.
func (s *Server) rateAnswer(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in feedbackRequest
	if !s.bind(c, &in) {
		return
	}
	rating, err := domain.ParseRating(in.Rating)
	if err != nil {
		s.fail(c, err)
		return
	}
	if in.Comment != nil && *in.Comment == "" {
		in.Comment = nil
	}
	f, err := domain.RateAnswer(c.Request.Context(), s.db, currentUser(c).ID, id, rating, in.Comment)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.Feedback.WithLabelValues(string(f.Rating)).Inc()
	s.messagesLog(c).Info("answer rated", "message_id", id, "rating", f.Rating, "commented", f.Comment != nil)
	c.JSON(http.StatusOK, f)
}

// takeBackRating removes one's rating of an answer.
func (s *Server) takeBackRating(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	if err := domain.TakeBackRating(c.Request.Context(), s.db, currentUser(c).ID, id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, messageResponse{Message: "Rating taken back"})
}
